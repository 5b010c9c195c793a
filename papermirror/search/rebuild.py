"""Rebuilding an index from Redis, the source of truth, and the documents of stored records.

:func:`reindex` is ``papermirror reindex`` (with a progress bar, :func:`reindex_command`)
and what an indexer does with an index that is missing, old or behind;
:func:`documents` turns stored blobs into index documents for both.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

import orjson
import redis

from papermirror import buckets, codec, keys
from papermirror.search.index_files import stream_id, write_position, write_version
from papermirror.search.service import index_dir
from papermirror.search.tantivy_engine import TantivyEngine
from papermirror.settings import Settings

log = logging.getLogger(__name__)

MGET_CHUNK = 2000
LOCK_RETRY = 0.5  # seconds between tries while `papermirror reindex` holds the writer


def term_set(field: str, values: list[str]):
    """A query matching any of ``values`` in a raw field."""
    import tantivy

    from papermirror.search.tantivy_schema import SCHEMA

    return tantivy.Query.term_set_query(SCHEMA, field, values)


def documents(client: redis.Redis, blobs: list[bytes | None]) -> list[str]:
    """The index documents of these stored blobs (missing ones skipped), as JSON for ``add_json``.

    Rows, not Papers (a third of the cost); a record without dates (known only
    from a daily feed) takes the day a feed announced it, when one did.
    """
    from papermirror.search.tantivy_schema import row_json

    rows = [orjson.loads(codec.decompress(b)) for b in blobs if b]
    undated = [r[0] for r in rows if not r[6]]
    announced = dict(zip(undated, announced_days(client, undated), strict=True))
    return [row_json(r, announced.get(r[0], 0)) for r in rows]


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
        position = stream_id(last[0][0])
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
    total = buckets.count(client)
    done = 0
    try:
        writer.delete_all_documents()
        for blobs in buckets.scan(client):
            done += _add_all(client, writer, blobs)
            if progress:
                progress(done, total)
        writer.commit()
        writer.wait_merging_threads()
    finally:
        del writer
    write_version(engine.path)
    write_position(engine.path, position)
    engine.refresh()
    log.info("reindexed %d papers", done)
    return position


def _add_all(client: redis.Redis, writer, blobs: list[bytes]) -> int:
    docs = documents(client, blobs)
    add = writer.add_json
    for doc in docs:
        add(doc)
    return len(docs)


def reindex_command(settings: Settings, client: redis.Redis) -> int:
    """Rebuild the index; a running indexer pauses meanwhile and then catches up."""
    from tqdm import tqdm

    path = index_dir(settings)
    bar = tqdm(unit="papers", disable=not sys.stderr.isatty(), unit_scale=True)

    def progress(done: int, total: int) -> None:
        bar.total = max(total, done)
        bar.update(done - bar.n)

    started = time.perf_counter()
    try:
        reindex(client, TantivyEngine(path, writer=True), progress=progress)
    except ValueError as exc:  # the writer lock stayed busy
        print(f"reindex failed: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    count = TantivyEngine(path).count()
    print(f"indexed {count} papers into {path} in {seconds:.1f}s")
    return 0
