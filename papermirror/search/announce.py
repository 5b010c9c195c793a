"""Announcing written paper ids on the search stream (see :mod:`papermirror.search`).

Imported by the store, so it stays tiny: no engine, no Flask, no RQ. One
stream entry carries many ids (a whole import block), so announcing millions
of papers costs thousands of entries, not millions.
"""

from __future__ import annotations

from collections.abc import Iterable

from papermirror import keys

# Entries kept on the stream. An indexer that falls further behind than this
# (it was down through a huge import) notices the gap and rebuilds its index.
STREAM_LENGTH = 100_000


def announce(client, paper_ids: Iterable[str]) -> None:
    """XADD the ids on the search stream; ``client`` may be a pipeline (then inside its MULTI)."""
    ids = " ".join(paper_ids)
    if ids:
        client.xadd(keys.SEARCH_STREAM, {"ids": ids}, maxlen=STREAM_LENGTH, approximate=True)
