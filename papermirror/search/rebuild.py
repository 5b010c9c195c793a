"""``papermirror reindex``: rebuild this host's search index from Redis, with a progress bar."""

from __future__ import annotations

import sys
import time

import redis

from papermirror.search.indexer import reindex
from papermirror.search.service import index_dir
from papermirror.search.tantivy_engine import TantivyEngine
from papermirror.settings import Settings


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
