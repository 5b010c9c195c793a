"""A small in-process LRU of rendered paper pages, keyed by path.

Each entry remembers the page's ETag, which hashes the stored record bytes:
after ``ttl`` seconds the record is read from Redis again, and the page is
re-rendered only if its ETag changed. Within ``ttl`` a popular page costs no
Redis round trip at all (microcaching), so a record change shows after at most
``ttl`` seconds.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import NamedTuple

from flask import Response, request

from papermirror import metrics
from server.microcache import MARK

# Browsers revalidate after a minute; a matching ETag makes that a cheap 304.
CACHE_CONTROL = "public, max-age=60"


@cache
def templates_digest() -> str:
    """A hash of every template and static file: part of each page's ETag and cache key.

    A deploy that changes the markup changes every ETag, so no browser or cache
    keeps old markup by revalidating against an unchanged record.
    """
    root = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted([*root.glob("templates/**/*"), *root.glob("static/**/*")]):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# Settings that are secrets never go into an ETag, even hashed.
_SECRET_WORDS = ("token", "key", "password", "secret")


def render_digest(settings) -> str:
    """:func:`templates_digest` plus every setting a page could be rendered with.

    Turning the FAQ on, or changing any other setting, changes every page's ETag,
    so browsers and the micro-cache fetch the new markup rather than a 304.
    Computed once per app (:class:`server.services.Services` keeps it).
    """
    digest = hashlib.blake2b(templates_digest().encode(), digest_size=8)
    for name, value in sorted(settings.to_env().items()):
        if not any(word in name.lower() for word in _SECRET_WORDS):
            digest.update(f"|{name}={value}".encode())
    return digest.hexdigest()


class Page(NamedTuple):
    """A rendered page and when its record was last read."""

    etag: str
    body: bytes
    checked: float


class PageCache:
    """Thread-safe LRU of ``path -> Page``."""

    def __init__(self, size: int, ttl: float, name: str = "pages", counted: bool = True):
        self.size = size
        self.ttl = ttl
        counter = metrics.PAGE_CACHE if counted else metrics.UNCOUNTED
        self._hit = counter.labels(name, "hit")
        self._miss = counter.labels(name, "miss")
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


def conditional_response(
    body: bytes, etag: str, mimetype: str = "text/html", fresh: float | None = None
) -> Response:
    """A cacheable page: ETag and Cache-Control, and 304 when the client's copy matches.

    The micro-cache (:mod:`server.microcache`) keeps it for ``fresh`` seconds,
    by default the ``page_cache_seconds`` setting.
    """
    resp = Response(body, mimetype=mimetype)
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = CACHE_CONTROL
    if fresh is None:
        from server.services import services

        fresh = services().settings.page_cache_seconds
    if fresh > 0:
        resp.headers[MARK] = repr(float(fresh))
    return resp.make_conditional(request)


def not_modified(etag: str) -> bool:
    """Whether the request's If-None-Match already names ``etag`` (answer 304, skip the render)."""
    return etag in request.if_none_match
