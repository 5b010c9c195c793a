"""The indexer: the one writer of an index, following the search stream.

It reads the ids every paper write announces (:mod:`papermirror.search.announce`),
reads those records from Redis (the source of truth) and commits them in
batches, at most ``commit_delay`` seconds after the first id of a batch
arrived. Its stream position is kept beside the index, written after each
commit, so a restart resumes where it stopped; an index that is missing, or
that fell behind what the stream still holds, is rebuilt from Redis.

Run it with ``python -m papermirror.search.indexer`` (the compose stack's
``indexer`` service does), or in a thread with :func:`follow` (``papermirror up``
runs it so, in worker.run's one process).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path

import redis

from papermirror import buckets, keys, malloc
from papermirror.search.announce import entry_ids
from papermirror.search.index_files import (
    INDEX_VERSION,
    older,
    read_position,
    read_version,
    stream_id,
    write_position,
)
from papermirror.search.rebuild import LOCK_RETRY, MGET_CHUNK, documents, reindex, term_set
from papermirror.search.tantivy_engine import TantivyEngine

log = logging.getLogger(__name__)

READ_COUNT = 500  # stream entries per XREAD (an import block's entry holds ~600 ids)
BATCH_IDS = 50_000  # ids that force a commit before the delay is up
# During a bulk load (an import), commit a third as often: each commit writes new
# segments that must later be merged, and a few seconds' delay is still fresh.
BULK_IDS = 5_000
BULK_FACTOR = 3
# While writes keep coming, the writer stays open between commits (its merges run in
# the background instead of blocking each batch), but never longer than this, so
# `papermirror reindex` (which waits a minute for the lock) gets its turn.
HOLD_SECONDS = 20.0
# tantivy's indexing threads (the writer's heap is shared among them). On an idle
# 2-core machine a second one took a 200k import's index rate from 8,089 / 9,127 /
# 11,386 to 11,013 / 11,973 / 12,925 papers/s (min / median / max of 3 rounds
# each, bench/search.py), and the wait after the import from 12.3 s to 5.2 s.
WRITER_THREADS = 2


class Indexer:
    """Consumes the search stream into one index directory."""

    def __init__(
        self,
        client: redis.Redis,
        path: str | Path,
        commit_delay: float = 1.0,
        heap: int = 64_000_000,
        threads: int = WRITER_THREADS,
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
            deleted = stream_id(deleted)
            return deleted != "0-0" and older(position, deleted)
        # Redis 6: entries after ``position`` were written but the oldest left is newer.
        last = stream_id(info.get("last-generated-id") or "0-0")
        if not older(position, last):
            return False
        first = info.get("first-entry")
        return not first or older(position, stream_id(first[0]))

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
                    pending_position = stream_id(entry_id)
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
                blobs = buckets.get_many(self.redis, chunk)
                # One delete for the chunk, before its adds: replaces what the index held.
                writer.delete_documents_by_query(term_set("id", chunk))
                add = writer.add_json
                for doc in documents(self.redis, blobs):
                    add(doc)
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
