"""Content-Encoding for responses: brotli, zstd and gzip, chosen by the client's Accept-Encoding.

Pure functions, no Flask: :mod:`server.microcache` compresses a cacheable page
once, when it is cached (:func:`variants`, at high levels), and any other
compressible answer per request (:func:`compress_one`, at fast levels).
Libraries: ``brotli`` (Google's reference bindings) and ``zstandard`` (already
the record codec's), gzip from the standard library.
"""

from __future__ import annotations

import gzip
import threading
from functools import lru_cache

import brotli
import zstandard

# What is worth compressing: text. Images and zips are compressed already.
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/atom+xml",
    "application/xml",
    "application/javascript",
    "application/rss+xml",
    "image/svg+xml",
)
MIN_SIZE = 512  # below this the headers cost more than the saving
# Server preference among what the client accepts: smallest first.
PREFERENCE = ("br", "zstd", "gzip")

_local = threading.local()


def compressible(content_type: str | None, size: int) -> bool:
    """Whether a body of this type and size is worth compressing."""
    return bool(content_type) and size >= MIN_SIZE and content_type.startswith(COMPRESSIBLE)


def _zstd(level: int) -> zstandard.ZstdCompressor:
    # zstd compressor objects are not thread-safe: one per thread and level.
    cache = getattr(_local, "zstd", None)
    if cache is None:
        cache = _local.zstd = {}
    c = cache.get(level)
    if c is None:
        c = cache[level] = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return c


# (brotli quality, zstd level, gzip level). Measured on /arxiv/cs.AI (446 KB of HTML):
# br 6 is within 2% of br 9's bytes at a fifth of its time (~60 ms against ~300 on
# this loaded machine), zstd 6 within 2.5% of zstd 12 at a third; gzip 9 gains
# nothing over 6. Small pages (a paper: 7 KB) take the high levels: under 5 ms.
FAST = (4, 3, 6)  # per request, for what is not cached
SMALL = (9, 19, 9)  # cached, up to SMALL_SIZE bytes
LARGE = (6, 6, 6)  # cached listings and feeds, hundreds of KB
SMALL_SIZE = 64 * 1024


def encode(body: bytes, encoding: str, fast: bool) -> bytes:
    """``body`` in one content coding; ``fast`` trades bytes for CPU (per-request use)."""
    br, zst, gz = FAST if fast else SMALL if len(body) <= SMALL_SIZE else LARGE
    if encoding == "br":
        return brotli.compress(body, quality=br, mode=brotli.MODE_TEXT)
    if encoding == "zstd":
        return _zstd(zst).compress(body)
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=gz, mtime=0)
    raise ValueError(f"unknown content coding {encoding}")


def variants(body: bytes) -> dict[str, bytes]:
    """Every coding of a body that is cached (compressed once, when it is cached)."""
    out = {"identity": body}
    for enc in PREFERENCE:
        out[enc] = encode(body, enc, fast=False)
    return out


@lru_cache(maxsize=256)
def accepted(header: str | None) -> tuple[str, ...]:
    """The codings the client accepts, best first; ``identity`` is always last.

    Follows RFC 9110 §12.5.3: ``q=0`` refuses a coding, ``*`` stands for the
    ones not named. Browsers send a handful of distinct headers, so it is cached.
    """
    if not header:
        return ("identity",)
    q: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        q[name] = weight
    star = q.get("*")
    ranked = []
    for i, enc in enumerate(PREFERENCE):
        w = q.get(enc, star if star is not None else 0.0)
        if w > 0:
            ranked.append((-w, i, enc))
    return (*(enc for _, _, enc in sorted(ranked)), "identity")


def choose(header: str | None, available) -> str:
    """The best coding of ``available`` (a container of codings) the client accepts."""
    for enc in accepted(header):
        if enc in available:
            return enc
    return "identity"
