"""A WSGI micro-cache in front of Flask: hot pages and their 304s answered from memory.

A view marks a response cacheable with the internal ``MARK`` header (its value:
seconds the copy stays fresh); the middleware strips it. A marked 200 with an
ETag is compressed once into every coding (:func:`server.compress.variants`)
and kept in a per-process LRU bounded in bytes. Within its freshness a hit
costs a dict lookup: Flask, Werkzeug and Redis are not involved.

Once stale, the next request asks Flask again with the copy's ETag as
If-None-Match, so an unchanged page costs a 304 from the view (no render, no
compression). If Flask then answers 500/502/503/504 (Redis away, say), the
stale copy is served for up to ``stale_seconds`` (RFC 5861's stale-if-error).

Unmarked answers pass through, compressed per request at fast levels when the
client accepts it and the body is text; streamed answers (no Content-Length)
are never buffered.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from papermirror import malloc
from server import compress

MARK = "X-Papermirror-Microcache"
_MARK_LOWER = MARK.lower()
# Internal too: the route the answer came from, for counting the hits Flask never sees.
ROUTE = "X-Papermirror-Route"
_ROUTE_LOWER = ROUTE.lower()
STALE_STATUSES = {500, 502, 503, 504}
_DROP = {"content-length", "content-encoding", _MARK_LOWER, _ROUTE_LOWER}
_INTERNAL = {_MARK_LOWER, _ROUTE_LOWER}
# Headers a 304 repeats (RFC 9110 §15.4.5).
_KEEP_304 = {"etag", "cache-control", "vary", "expires", "content-location", "date"}


class Entry:
    """One cached answer: headers and body per coding, and its freshness."""

    __slots__ = ("etag", "ttl", "expires", "stored", "answers", "not_modified", "size", "route")

    def __init__(
        self, etag: str, ttl: float, answers: dict, not_modified: list, size: int, route: str = ""
    ):
        self.route = route
        self.etag = etag
        self.ttl = ttl
        self.stored = time.monotonic()
        self.expires = self.stored + ttl
        self.answers = answers  # coding -> (headers, body)
        self.not_modified = not_modified
        self.size = size


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, ``*`` included)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    plain = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == plain for tag in header.split(","))


def _with_vary(headers: list) -> list:
    for i, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "accept-encoding" not in value.lower():
                headers[i] = (name, f"{value}, Accept-Encoding")
            return headers
    headers.append(("Vary", "Accept-Encoding"))
    return headers


def _header(headers: list, lower: str) -> str | None:
    for name, value in headers:
        if name.lower() == lower:
            return value
    return None


class MicroCache:
    """WSGI middleware; ``max_bytes`` bounds the bodies kept, per process."""

    def __init__(self, app, max_bytes: int = 32 << 20, stale_seconds: float = 3600.0, on_hit=None):
        self.app = app
        # on_hit(route, method, status): a hit never reaches Flask, so its metrics come here.
        self.on_hit = on_hit
        self.max_bytes = max_bytes
        self.stale_seconds = stale_seconds
        self._items: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    # --- the hot path ----------------------------------------------------------
    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method != "GET" and method != "HEAD":
            return self._pass(environ, start_response)
        key = _key(environ)
        entry = self._items.get(key)
        if entry is not None and time.monotonic() < entry.expires:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
            if self.on_hit is not None:
                matched = etag_matches(environ.get("HTTP_IF_NONE_MATCH"), entry.etag)
                self.on_hit(entry.route, method, "304" if matched else "200")
            return _serve(entry, environ, start_response)
        return self._fill(key, entry, environ, start_response)

    # --- misses and revalidation -----------------------------------------------
    def _fill(self, key: str, entry: Entry | None, environ, start_response):
        inner = dict(environ)
        inner["REQUEST_METHOD"] = "GET"  # a HEAD fills the cache like a GET
        inner.pop("HTTP_IF_NONE_MATCH", None)
        if entry is not None:
            inner["HTTP_IF_NONE_MATCH"] = entry.etag
        status, headers, body, streamed = _call(self.app, inner)
        if streamed is not None:  # not buffered: pass it on as it comes
            return _stream(status, headers, streamed, environ, start_response)
        code = int(status[:3])
        ttl = _header(headers, _MARK_LOWER)
        if entry is not None:
            if code == 304 and _header(headers, "etag") == entry.etag:
                entry.stored = time.monotonic()
                entry.expires = entry.stored + entry.ttl
                return _serve(entry, environ, start_response)
            if code in STALE_STATUSES and time.monotonic() - entry.stored <= self.stale_seconds:
                return _serve(entry, environ, start_response, stale=True)
            if code not in STALE_STATUSES:
                self._drop(key)
        etag = _header(headers, "etag")
        if (
            code == 200
            and ttl is not None
            and etag is not None
            and _header(headers, "set-cookie") is None
        ):
            new = _build(status, headers, body, etag, float(ttl))
            self._put(key, new)
            return _serve(new, environ, start_response)
        return _answer(status, headers, body, environ, start_response)

    def _put(self, key: str, entry: Entry) -> None:
        if entry.size > self.max_bytes // 4:
            return  # one huge page must not flush everything else
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._items[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= evicted.size

    def _drop(self, key: str) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.size

    def _pass(self, environ, start_response):
        status, headers, body, streamed = _call(self.app, environ)
        if streamed is not None:
            return _stream(status, headers, streamed, environ, start_response)
        return _answer(status, headers, body, environ, start_response)

    def clear(self) -> None:
        """Forget every cached answer."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


def _key(environ) -> str:
    # Pages hold absolute links built from the host and scheme: key on them.
    return "\x00".join(
        (
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_X_FORWARDED_HOST", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
    )


def _call(app, environ):
    """Run the inner app; (status, headers, body, None) or, when streamed, (…, iterable)."""
    captured = []
    chunks: list[bytes] = []

    def start_response(status, headers, exc_info=None):
        captured[:] = [status, list(headers)]
        return chunks.append

    result = app(environ, start_response)
    status, headers = captured
    # No length means streamed (a 304 or 204 has no body to stream).
    if _header(headers, "content-length") is None and status[:3] not in ("304", "204"):
        return status, headers, b"", result
    try:
        body = b"".join(chunks) + b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return status, headers, body, None


def _build(status: str, headers: list, body: bytes, etag: str, ttl: float) -> Entry:
    base = [(n, v) for n, v in headers if n.lower() not in _DROP]
    ctype = _header(headers, "content-type")
    codings = compress.variants(body) if compress.compressible(ctype, len(body)) else {}
    malloc.trim_soon()  # rendering and compressing freed megabytes: give them back
    codings.setdefault("identity", body)
    answers = {}
    size = 0
    for coding, data in codings.items():
        h = list(base)
        if codings.keys() != {"identity"}:
            _with_vary(h)
        if coding != "identity":
            h.append(("Content-Encoding", coding))
        h.append(("Content-Length", str(len(data))))
        answers[coding] = (h, data)
        size += len(data) + 400
    not_modified = [(n, v) for n, v in answers["identity"][0] if n.lower() in _KEEP_304]
    return Entry(etag, ttl, answers, not_modified, size, _header(headers, _ROUTE_LOWER) or "")


def _serve(entry: Entry, environ, start_response, stale: bool = False):
    if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), entry.etag):
        start_response("304 NOT MODIFIED", list(entry.not_modified))
        return [b""]
    coding = compress.choose(environ.get("HTTP_ACCEPT_ENCODING"), entry.answers)
    headers, body = entry.answers[coding]
    if stale:
        age = int(time.monotonic() - entry.stored)
        headers = [*headers, ("Age", str(age))]
    start_response("200 OK", headers)
    return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def _answer(status: str, headers: list, body: bytes, environ, start_response):
    """An uncached, buffered answer: conditional and compressed per request."""
    headers = [(n, v) for n, v in headers if n.lower() not in _INTERNAL]
    code = int(status[:3])
    etag = _header(headers, "etag")
    if code == 200 and etag and etag_matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
        start_response("304 NOT MODIFIED", [(n, v) for n, v in headers if n.lower() in _KEEP_304])
        return [b""]
    ctype = _header(headers, "content-type")
    if (
        _header(headers, "content-encoding") is None
        and code not in (204, 304)
        and compress.compressible(ctype, len(body))
    ):
        _with_vary(headers)
        coding = compress.choose(environ.get("HTTP_ACCEPT_ENCODING"), compress.PREFERENCE)
        if coding != "identity":
            body = compress.encode(body, coding, fast=True)
            headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            headers += [("Content-Encoding", coding), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def _stream(status, headers, result, environ, start_response):
    start_response(status, [(n, v) for n, v in headers if n.lower() not in _INTERNAL])
    if environ["REQUEST_METHOD"] == "HEAD":
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return [b""]
    return result
