"""A small in-process LRU of rendered paper pages, keyed by path.

Each entry remembers the page's ETag, which hashes the stored record bytes:
after ``ttl`` seconds the record is read from Redis again, and the page is
re-rendered only if its ETag changed. Within ``ttl`` a popular page costs no
Redis round trip at all (microcaching), so a record change shows after at most
``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from flask import Response, request

from papermirror import metrics

# Browsers revalidate after a minute; a matching ETag makes that a cheap 304.
CACHE_CONTROL = "public, max-age=60"


class Page(NamedTuple):
    """A rendered page and when its record was last read."""

    etag: str
    body: bytes
    checked: float


class PageCache:
    """Thread-safe LRU of ``path -> Page``."""

    def __init__(self, size: int, ttl: float, name: str = "pages"):
        self.size = size
        self.ttl = ttl
        self._hit = metrics.PAGE_CACHE.labels(name, "hit")
        self._miss = metrics.PAGE_CACHE.labels(name, "miss")
        self._items: OrderedDict[str, Page] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, path: str) -> Page | None:
        """The cached page if its record was read less than ``ttl`` seconds ago."""
        page = self.get(path)
        if page is not None and time.monotonic() - page.checked < self.ttl:
            self._hit.inc()
            return page
        self._miss.inc()
        return None

    def get(self, path: str) -> Page | None:
        """The cached page, however old, or None."""
        with self._lock:
            page = self._items.get(path)
            if page is not None:
                self._items.move_to_end(path)
            return page

    def put(self, path: str, etag: str, body: bytes) -> None:
        """Remember a rendered page, evicting the least recently used."""
        with self._lock:
            self._items[path] = Page(etag, body, time.monotonic())
            self._items.move_to_end(path)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def conditional_response(body: bytes, etag: str, mimetype: str = "text/html") -> Response:
    """A cacheable page: ETag and Cache-Control, and 304 when the client's copy matches."""
    resp = Response(body, mimetype=mimetype)
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = CACHE_CONTROL
    return resp.make_conditional(request)
