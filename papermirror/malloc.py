"""glibc's allocator, tuned for long-lived processes that mostly wait (no-ops elsewhere).

Each thread that allocates gets a glibc arena of its own, and freed memory stays
in it. tantivy's writer starts fresh threads at every commit, so an indexer
that commits once per first visit grew ~5 MB per commit (94 MB RSS after ten
commits of one paper each); with one arena and a trim after each commit it
stays at ~65 MB (bench/memory.py measures the whole mirror).
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def cap_arenas(count: int) -> bool:
    """Let at most ``count`` arenas serve this process' threads; False where unsupported."""
    libc = _libc()
    try:
        return bool(libc and libc.mallopt(M_ARENA_MAX, count))
    except AttributeError:  # not glibc
        return False


def trim() -> bool:
    """Give the freed memory of every arena back to the system; False where unsupported."""
    libc = _libc()
    try:
        return bool(libc and libc.malloc_trim(0))
    except AttributeError:
        return False
