"""The indexer: the one writer of an index, following the search stream; and ``reindex``.

It reads the ids every paper write announces (:mod:`papermirror.search.announce`),
reads those records from Redis (the source of truth) and commits them in
batches, at most ``commit_delay`` seconds after the first id of a batch
arrived. Its stream position is kept beside the index, written after each
commit, so a restart resumes where it stopped; an index that is missing, or
that fell behind what the stream still holds, is rebuilt from Redis.

Run it with ``python -m papermirror.search.indexer`` (the compose stack's
``indexer`` service does), or in a thread with :func:`follow` (``papermirror up``
runs it so in worker.run's services process).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import redis

from papermirror import codec, keys, malloc
from papermirror.search.announce import entry_ids
from papermirror.search.tantivy_engine import TantivyEngine

log = logging.getLogger(__name__)

POSITION_FILE = "stream-position"
# What the documents hold; an index written by an older indexer is rebuilt on start.
# 2: author keys for every forename initial; feed-only papers dated by their announcement.
VERSION_FILE = "index-version"
INDEX_VERSION = "2"
READ_COUNT = 500  # stream entries per XREAD (an import block's entry holds ~600 ids)
BATCH_IDS = 50_000  # ids that force a commit before the delay is up
# During a bulk load (an import), commit a third as often: each commit writes new
# segments that must later be merged, and a few seconds' delay is still fresh.
BULK_IDS = 5_000
BULK_FACTOR = 3
MGET_CHUNK = 2000
LOCK_RETRY = 0.5  # seconds between tries while `papermirror reindex` holds the writer
# While writes keep coming, the writer stays open between commits (its merges run in
# the background instead of blocking each batch), but never longer than this, so
# `papermirror reindex` (which waits a minute for the lock) gets its turn.
HOLD_SECONDS = 20.0


def read_position(path: Path) -> str | None:
    """The last stream entry an index holds, or None for a new or unknown index."""
    try:
        text = (path / POSITION_FILE).read_text().strip()
    except OSError:
        return None
    return text or None


def write_position(path: Path, position: str) -> None:
    """Record the stream entry the committed index holds (atomically)."""
    tmp = path / (POSITION_FILE + ".tmp")
    tmp.write_text(position + "\n")
    tmp.replace(path / POSITION_FILE)


def read_version(path: Path) -> str | None:
    """The document version an index was built with (None before versions were recorded)."""
    try:
        return (path / VERSION_FILE).read_text().strip() or None
    except OSError:
        return None


def _stream_id(entry_id) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def _older(a: str, b: str) -> bool:
    ams, _, aseq = a.partition("-")
    bms, _, bseq = b.partition("-")
    return (int(ams), int(aseq or 0)) < (int(bms), int(bseq or 0))


class Indexer:
    """Consumes the search stream into one index directory."""

    def __init__(
        self,
        client: redis.Redis,
        path: str | Path,
        commit_delay: float = 1.0,
        heap: int = 64_000_000,
        threads: int = 1,
    ):
        self.redis = client
        self.path = Path(path)
        self.engine = TantivyEngine(self.path, writer=True)
        self.commit_delay = commit_delay
        self.heap = heap
        self.threads = threads
        self.indexed = 0  # papers committed since start (for the benchmarks)
        self._writer = None
        self._writer_since = 0.0

    def position(self) -> str:
        """Where to resume: the stored position, or after a rebuild when it cannot be trusted."""
        self.path.mkdir(parents=True, exist_ok=True)
        position = read_position(self.path)
        current = read_version(self.path) == INDEX_VERSION
        if position is not None and current and not self._trimmed_past(position):
            return position
        if position is not None and not current:
            log.warning("the index was written by an older indexer; rebuilding it from Redis")
        elif position is not None:
            log.warning("the index fell behind the search stream; rebuilding it from Redis")
        return reindex(self.redis, self.engine, heap=self.heap, threads=self.threads)

    def _trimmed_past(self, position: str) -> bool:
        """Whether the stream dropped entries after ``position`` (the index missed them)."""
        try:
            info = self.redis.xinfo_stream(keys.SEARCH_STREAM)
        except redis.ResponseError:  # no stream yet: nothing was trimmed
            return False
        deleted = info.get("max-deleted-entry-id")
        if deleted is not None:  # Redis 7 knows the newest trimmed entry
            deleted = _stream_id(deleted)
            return deleted != "0-0" and _older(position, deleted)
        # Redis 6: entries after ``position`` were written but the oldest left is newer.
        last = _stream_id(info.get("last-generated-id") or "0-0")
        if not _older(position, last):
            return False
        first = info.get("first-entry")
        return not first or _older(position, _stream_id(first[0]))

    def run(self, stop: threading.Event) -> None:
        """Index until ``stop`` is set."""
        try:
            self._follow(stop)
        finally:
            self._release()

    def _follow(self, stop: threading.Event) -> None:
        position = self.position()
        log.info("indexer following %s from %s into %s", keys.SEARCH_STREAM, position, self.path)
        pending: dict[str, None] = {}
        first_at = 0.0
        pending_position = position
        delay = self.commit_delay
        while not stop.is_set():
            wait = self.commit_delay if not pending else first_at + delay - time.time()
            block = max(1, int(min(wait, 1.0) * 1000))
            try:
                reply = self.redis.xread(
                    {keys.SEARCH_STREAM: pending_position}, count=READ_COUNT, block=block
                )
            except redis.RedisError as exc:
                log.warning("indexer cannot read the stream (%s); retrying", exc)
                stop.wait(1.0)
                continue
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    if not pending:
                        first_at = time.time()
                    pending.update(dict.fromkeys(entry_ids(fields)))
                    pending_position = _stream_id(entry_id)
            delay = self.commit_delay * (BULK_FACTOR if len(pending) >= BULK_IDS else 1)
            due = time.time() - first_at >= delay or len(pending) >= BATCH_IDS
            if pending and (due or stop.is_set()):
                if self._commit(list(pending), pending_position):
                    pending.clear()
                    position = pending_position
            elif not pending and not reply:
                self._release()  # idle: let merges finish and free the lock
            if self._writer is not None and time.monotonic() - self._writer_since > HOLD_SECONDS:
                self._release()
        log.info("indexer stopped at %s", position)

    def _commit(self, ids: list[str], position: str) -> bool:
        """Index ``ids`` and record ``position``; False while another writer holds the index."""
        if self._writer is None:
            try:
                self._writer = self.engine.writer(self.heap, self.threads)
            except ValueError:  # `papermirror reindex` holds the lock: keep the ids, try again
                time.sleep(LOCK_RETRY)
                return False
            self._writer_since = time.monotonic()
        writer = self._writer
        try:
            for start in range(0, len(ids), MGET_CHUNK):
                chunk = ids[start : start + MGET_CHUNK]
                blobs = self.redis.mget([keys.paper(i) for i in chunk])
                # One delete for the chunk, before its adds: replaces what the index held.
                writer.delete_documents_by_query(term_set("id", chunk))
                for doc in documents(self.redis, blobs):
                    writer.add_document(doc)
            writer.commit()
        except BaseException:
            self._writer = None  # dropped: tantivy rolls back what was not committed
            raise
        write_position(self.path, position)
        self.indexed += len(ids)
        self.engine.refresh()
        malloc.trim()  # the writer's threads freed their arenas: give them back
        return True

    def _release(self) -> None:
        """Wait for the writer's merges and drop it (frees the lock for `reindex`)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.wait_merging_threads()
            del writer
            malloc.trim()  # the writer's threads freed their arenas: give them back


def term_set(field: str, values: list[str]):
    """A query matching any of ``values`` in a raw field."""
    import tantivy

    from papermirror.search.tantivy_schema import SCHEMA

    return tantivy.Query.term_set_query(SCHEMA, field, values)


def documents(client: redis.Redis, blobs: list[bytes | None]) -> list:
    """The index documents of these stored blobs (missing ones skipped).

    Rows, not Papers (a third of the cost); a record without dates (known only
    from a daily feed) takes the day a feed announced it, when one did.
    """
    from papermirror.search.tantivy_schema import document_row

    rows = [orjson.loads(codec.decompress(b)) for b in blobs if b]
    undated = [r[0] for r in rows if not r[6]]
    announced = dict(zip(undated, announced_days(client, undated), strict=True))
    return [document_row(r, announced.get(r[0], 0)) for r in rows]


def announced_days(client: redis.Redis, paper_ids: list[str]) -> list[int]:
    """The day (YYYYMMDD) a daily feed first announced each paper, 0 when none did."""
    if not paper_ids:
        return []
    found = client.hmget(keys.SEARCH_ANNOUNCED, paper_ids)
    return [int(d) if d and d.isdigit() else 0 for d in found]


def reindex(
    client: redis.Redis,
    engine: TantivyEngine,
    *,
    heap: int = 256_000_000,
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
    wait: float = 60.0,
) -> str:
    """Rebuild the index from every record in Redis; returns the stream position it holds.

    The position is taken before reading, so a write that races the rebuild is
    indexed again by the indexer afterwards (indexing is idempotent).
    """
    last = client.xrevrange(keys.SEARCH_STREAM, count=1)
    if last:
        position = _stream_id(last[0][0])
    else:  # an empty stream: what comes next is newer than Redis's clock now
        seconds, micros = client.time()
        position = f"{seconds * 1000 + micros // 1000}-0"
    deadline = time.monotonic() + wait
    while True:
        try:
            writer = engine.writer(heap, threads)
            break
        except ValueError:
            if time.monotonic() > deadline:
                raise
            time.sleep(LOCK_RETRY)
    total = client.dbsize()
    done = 0
    try:
        writer.delete_all_documents()
        batch: list[bytes] = []
        for name in client.scan_iter(match=keys.paper("*"), count=MGET_CHUNK):
            batch.append(name)
            if len(batch) >= MGET_CHUNK:
                done += _add_all(client, writer, batch)
                batch = []
                if progress:
                    progress(done, total)
        done += _add_all(client, writer, batch)
        if progress:
            progress(done, total)
        writer.commit()
        writer.wait_merging_threads()
    finally:
        del writer
    (engine.path / VERSION_FILE).write_text(INDEX_VERSION + "\n")
    write_position(engine.path, position)
    engine.refresh()
    log.info("reindexed %d papers", done)
    return position


def _add_all(client: redis.Redis, writer, names: list[bytes]) -> int:
    if not names:
        return 0
    docs = documents(client, client.mget(names))
    for doc in docs:
        writer.add_document(doc)
    return len(docs)


def follow(settings, stop: threading.Event) -> None:
    """Index the stream of ``settings``' Redis into its index directory until ``stop`` is set."""
    from papermirror.search.service import index_dir

    client = redis.Redis.from_url(settings.redis_address, socket_timeout=30)
    indexer = Indexer(
        client,
        index_dir(settings),
        commit_delay=settings.search_commit_delay,
        heap=settings.search_writer_heap,
    )
    indexer.run(stop)


def main() -> int:
    """``python -m papermirror.search.indexer``: follow the stream until SIGTERM or Ctrl-C."""
    from papermirror.settings import Settings

    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s: %(message)s")
    malloc.cap_arenas(1)  # see papermirror.malloc
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    follow(settings, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
