"""glibc's allocator, tuned for long-lived processes that mostly wait (no-ops elsewhere).

Each thread that allocates gets a glibc arena of its own, and freed memory stays
in it. tantivy's writer starts fresh threads at every commit, so an indexer
that commits once per first visit grew ~5 MB per commit (94 MB RSS after ten
commits of one paper each); with one arena and a trim after each commit it
stays at ~65 MB (bench/memory.py measures the whole mirror).

A web process likewise keeps what rendering and compressing a page freed
(~4 MB after a few pages, measured by trimming a live one); :func:`trim_soon`
gives it back from a thread of its own a moment after the work, off the
request's path (a trim takes 1-7 ms).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable

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


class Trimmer:
    """Trims a few seconds after it was last asked to, in a daemon thread started on demand.

    Started lazily, so a process that forks its workers before serving (granian's
    preload) forks no thread; each worker starts its own at its first request.
    """

    def __init__(self, delay: float = 2.0) -> None:
        self.delay = delay
        self._asked = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.releases: list[Callable[[], None]] = []

    def request(self) -> None:
        """Ask for a trim soon; cheap enough for a request's path."""
        self._asked.set()
        if self._thread is None or not self._thread.is_alive():
            with self._start:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="trim", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            self._asked.wait()
            time.sleep(self.delay)  # one trim for a burst of work, after it
            self._asked.clear()
            for release in self.releases:
                release()
            trim()


_TRIMMER = Trimmer()


def trim_soon() -> None:
    """Give freed memory back to the system a moment from now (see :class:`Trimmer`)."""
    _TRIMMER.request()


def before_trim(release: Callable[[], None]) -> None:
    """Call ``release`` before each trim that :func:`trim_soon` asks for: it drops what
    an idle process need not keep (which the trim then gives back)."""
    _TRIMMER.releases.append(release)
