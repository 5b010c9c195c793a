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
# An entry with more ids than fit in this many bytes (an import block) stores them
# zstd-compressed, in the field "idz": an import's ids are near-sequential and shrink
# ~10x, and the stream kept all 11 bytes of each id of a 1M-record import (12 of its
# 624 Redis bytes per paper, bench/import_snapshot.py). Short entries stay readable.
COMPRESS_OVER = 512


def announce(client, paper_ids: Iterable[str]) -> None:
    """XADD the ids on the search stream; ``client`` may be a pipeline (then inside its MULTI)."""
    ids = " ".join(paper_ids).encode()
    if len(ids) > COMPRESS_OVER:
        import zstandard

        fields = {"idz": zstandard.ZstdCompressor(level=3).compress(ids)}
    elif ids:
        fields = {"ids": ids}
    else:
        return
    client.xadd(keys.SEARCH_STREAM, fields, maxlen=STREAM_LENGTH, approximate=True)


def entry_ids(fields: dict) -> list[str]:
    """The ids of one stream entry (field names and values as bytes), either form."""
    if packed := fields.get(b"idz"):
        import zstandard

        return zstandard.ZstdDecompressor().decompress(packed).decode().split()
    return (fields.get(b"ids") or b"").decode().split()


def record_announced(client, day: str, paper_ids: Iterable[str]) -> None:
    """Remember ``day`` (YYYY-MM-DD) as the day a feed first announced these new papers.

    Feed records carry no dates; search files such a paper under this day until
    its record has v1's date. Written before the records, so the indexer sees it.
    """
    ids = list(paper_ids)
    if not ids or len(day) < 10:
        return
    value = day[:4] + day[5:7] + day[8:10]
    with client.pipeline(transaction=False) as pipe:
        for i in ids:
            pipe.hsetnx(keys.SEARCH_ANNOUNCED, i, value)
        pipe.execute()
