"""While Redis is away: a clear 503 "storage unavailable", never a 500 or exception text.

Every view that needs Redis raises a redis-py error while Redis is down,
restarting (LOADING), full (OOM under ``noeviction``) or failing over (READONLY).
This handler turns any of them into a 503 with ``Retry-After``: an HTML page for
people, JSON under /api. The details go to the log, at most once per
:data:`LOG_EVERY` seconds with a count, so an outage under load does not flood
it. Nothing here needs Redis, so the answer itself cannot fail the same way.

A page cache in front of the app may answer a 503 with its stale copy instead;
that is its business. redis-py reconnects by itself, so the first request after
Redis is back is served as usual: there is no state to reset here.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from flask import Flask, jsonify, render_template, request

log = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds: a Redis restart from its append-only file takes about this
LOG_EVERY = 10.0
TITLE = "Storage unavailable"
MESSAGE = "The mirror's database is not answering right now. Please try again in a few seconds."

_lock = threading.Lock()
_last_log = 0.0
_unlogged = 0


def _log(exc: redis.RedisError) -> None:
    global _last_log, _unlogged
    with _lock:
        now = time.monotonic()
        if now - _last_log < LOG_EVERY:
            _unlogged += 1
            return
        count, _unlogged, _last_log = _unlogged, 0, now
    more = f" (and {count} more since the last report)" if count else ""
    log.error("storage unavailable on %s: %s: %s%s", request.path, type(exc).__name__, exc, more)


def storage_unavailable(exc: redis.RedisError):
    """The 503 answer for a request that needed Redis."""
    _log(exc)
    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    if request.path.startswith("/api/") or request.path == "/api":
        body = jsonify(error="storage unavailable", retry_after=RETRY_AFTER)
        return body, 503, headers
    try:
        html = render_template("error.html", status=503, title=TITLE, message=MESSAGE)
    except Exception:  # noqa: BLE001 - a template that itself needs Redis must not make a 500
        html = f"<!doctype html><title>{TITLE}</title><h1>{TITLE}</h1><p>{MESSAGE}</p>"
    return html, 503, {**headers, "Content-Type": "text/html; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Register the handler (after the generic error handlers, so this one wins)."""
    app.register_error_handler(redis.RedisError, storage_unavailable)
