"""Where a host's index lives, and the read-only engine a web process searches with."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from papermirror.settings import Settings


def index_dir(settings: Settings) -> Path:
    """The search index directory: PAPERMIRROR_SEARCH_DIR, else ``search`` under the data dir."""
    return Path(settings.search_dir or Path(settings.data_dir) / "search")


@lru_cache(maxsize=8)
def reader(path: str):
    """One read-only engine per index directory and process (it reloads after each commit)."""
    from papermirror.search.tantivy_engine import TantivyEngine

    return TantivyEngine(path)
