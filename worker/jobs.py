"""The RQ jobs: thin wrappers that build the domain objects and call them."""

from __future__ import annotations

import logging
from functools import cache

import redis

from papermirror.arxiv.api import ApiClient
from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.fetching import Drainer
from papermirror.settings import Settings

log = logging.getLogger(__name__)


@cache
def _context() -> tuple[Settings, redis.Redis, ApiClient]:
    # One Redis pool and one HTTP session per worker process, reused across jobs:
    # arXiv asks for a single connection, which a kept-alive session gives.
    settings = Settings.from_env()
    client = redis.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
    limiter = ArxivLimiter(client, settings.arxiv_min_interval)
    api = ApiClient(settings, PoliteSession(settings, limiter))
    return settings, client, api


def drain_pending() -> dict:
    """Fetch every id that visitors asked for and the mirror lacks (see papermirror.fetching).

    Idempotent: with nothing pending it returns at once. Raises when arXiv is
    unreachable, so RQ retries it with backoff and finally keeps it, with the
    reason, in the failed job registry.
    """
    settings, client, api = _context()
    report = Drainer(settings, client, api).drain()
    return {
        "requests": report.requests,
        "found": len(report.found),
        "missing": len(report.missing),
        "failed": len(report.failed),
        "skipped": report.skipped,
    }
