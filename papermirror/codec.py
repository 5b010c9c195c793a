"""Compact record encoding for Redis: a JSON array, zstd-compressed with a trained dictionary.

A blob is one format byte followed by the payload:

* format 1: a zstd frame with the 32 KB dictionary ``records.zdict``;
* format 2 (written now): a magicless zstd frame without dictionary id or
  checksum (the format byte says all that), with the 256 KB dictionary
  ``records2.zdict``. Both dictionaries are trained by ``scripts/train_zdict.py``
  on the 2014 arXivRaw page, never on the data the benchmarks measure.

A new dictionary must get a new format byte, so blobs written with an old one
stay readable: :func:`decode` reads every format, :func:`encode` writes the newest.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import zstandard

from papermirror.records import Author, Paper, Version

DICT_PATH = Path(__file__).with_name("records.zdict")
DICT2_PATH = Path(__file__).with_name("records2.zdict")
FORMAT_ZSTD_DICT = 1
FORMAT_ZSTD_DICT2 = 2
# Records written one by one (first visits, daily feeds): level 17, ~0.4 ms a
# record, 4% fewer bytes than level 9. The bulk import, millions of records,
# keeps level 9 (~0.1 ms) for its throughput goal.
LEVEL = 17
BULK_LEVEL = 9

_local = threading.local()
_dicts: dict[tuple[int, int], zstandard.ZstdCompressionDict] = {}
_lock = threading.Lock()


def _params(level: int) -> zstandard.ZstdCompressionParameters:
    # Records are a few KB and the dictionary 256 KB: a 512 KB window and 2^19-entry
    # tables hold both. The level's own tables (up to 2^23) would cost ~8 MB of RSS
    # per writing process for the same bytes (measured on the 1,504-paper day).
    return zstandard.ZstdCompressionParameters.from_level(
        level,
        format=zstandard.FORMAT_ZSTD1_MAGICLESS,
        write_content_size=1,
        write_dict_id=0,
        write_checksum=0,
        window_log=19,
        hash_log=19,
        chain_log=19,
    )


def _zstd_dict(fmt: int = FORMAT_ZSTD_DICT, level: int = 0) -> zstandard.ZstdCompressionDict:
    # A dictionary prepared for compression is tied to one level: one object per level.
    d = _dicts.get((fmt, level))
    if d is None:
        with _lock:
            d = _dicts.get((fmt, level))
            if d is None:
                path = DICT_PATH if fmt == FORMAT_ZSTD_DICT else DICT2_PATH
                d = zstandard.ZstdCompressionDict(path.read_bytes())
                if level:
                    d.precompute_compress(compression_params=_params(level))
                _dicts[(fmt, level)] = d
    return d


class _Compressors:
    """zstd compressors, lent to one thread at a time and dropped when the process idles.

    A level-17 compressor with its prepared dictionary holds ~4.4 MB of tables; a
    worker that wrote one record an hour ago need not keep them (bench/memory.py).
    zstd compressor objects are not safe to share between threads, hence the lending.
    """

    def __init__(self) -> None:
        self._idle: dict[int, list[zstandard.ZstdCompressor]] = {}

    @contextmanager
    def lend(self, level: int) -> Iterator[zstandard.ZstdCompressor]:
        """A compressor for ``level`` that no other thread uses until it is back."""
        with _lock:
            idle = self._idle.get(level)
            c = idle.pop() if idle else None
        if c is None:
            c = zstandard.ZstdCompressor(
                dict_data=_zstd_dict(FORMAT_ZSTD_DICT2, level), compression_params=_params(level)
            )
        try:
            yield c
        finally:
            with _lock:
                self._idle.setdefault(level, []).append(c)

    def forget(self) -> None:
        """Drop every compressor not in use and every prepared dictionary; the next
        :func:`encode` builds its own again (~25 ms at level 17)."""
        with _lock:
            self._idle.clear()
            for key in [k for k in _dicts if k[1]]:
                del _dicts[key]


_COMPRESSORS = _Compressors()


def forget_compressors() -> None:
    """Free the compression tables of an idle process (see :class:`_Compressors`)."""
    _COMPRESSORS.forget()


def _decompressors() -> dict[int, zstandard.ZstdDecompressor]:
    found = getattr(_local, "decompressors", None)
    if found is None:
        found = _local.decompressors = {
            FORMAT_ZSTD_DICT: zstandard.ZstdDecompressor(dict_data=_zstd_dict()),
            FORMAT_ZSTD_DICT2: zstandard.ZstdDecompressor(
                dict_data=_zstd_dict(FORMAT_ZSTD_DICT2), format=zstandard.FORMAT_ZSTD1_MAGICLESS
            ),
        }
    return found


def serialize(p: Paper) -> bytes:
    """The uncompressed JSON array form of a record (positional, no field names)."""
    authors = [[a.name, list(a.affiliations)] if a.affiliations else a.name for a in p.authors]
    row = [
        p.id,
        p.version,
        p.title,
        authors,
        p.abstract,
        list(p.categories),
        p.published,
        p.updated,
        [[v.number, v.date, v.size] for v in p.versions],
        p.comment,
        p.journal_ref,
        p.doi,
        p.license,
        p.source,
    ]
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()


def deserialize(data: bytes) -> Paper:
    """Inverse of :func:`serialize`."""
    (
        pid,
        version,
        title,
        authors,
        abstract,
        categories,
        published,
        updated,
        versions,
        comment,
        journal_ref,
        doi,
        license_,
        source,
    ) = json.loads(data)
    return Paper(
        id=pid,
        version=version,
        title=title,
        authors=tuple(
            Author(a) if isinstance(a, str) else Author(a[0], tuple(a[1])) for a in authors
        ),
        abstract=abstract,
        categories=tuple(categories),
        published=published,
        updated=updated,
        versions=tuple(Version(n, d, s) for n, d, s in versions),
        comment=comment,
        journal_ref=journal_ref,
        doi=doi,
        license=license_,
        source=source,
    )


def encode(p: Paper) -> bytes:
    """The blob stored in Redis for one record."""
    return encode_serialized(serialize(p), LEVEL)


def encode_serialized(serialized: bytes, level: int = BULK_LEVEL) -> bytes:
    """The blob for a record already in :func:`serialize`'s form (the import's fast path)."""
    with _COMPRESSORS.lend(level) as compressor:
        return _FORMAT2 + compressor.compress(serialized)


_FORMAT2 = bytes((FORMAT_ZSTD_DICT2,))


def decode(blob: bytes) -> Paper:
    """Inverse of :func:`encode`, for every format; raises ValueError on an unknown one."""
    return deserialize(decompress(blob))


def decompress(blob: bytes) -> bytes:
    """A blob's :func:`serialize` form (the search indexer reads rows, not Papers)."""
    decompressor = _decompressors().get(blob[0]) if blob else None
    if decompressor is None:
        raise ValueError(f"unknown record format {blob[:1]!r}")
    return decompressor.decompress(blob[1:])
