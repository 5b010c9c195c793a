"""What every job in a worker process shares: settings, one Redis pool, one arXiv session."""

from __future__ import annotations

import threading
from functools import cache

import redis

from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.settings import Settings

_building = threading.Lock()


def context() -> tuple[Settings, redis.Redis, PoliteSession]:
    """Built once per process that runs jobs, and shared by every job in it.

    `papermirror up` runs RQ's SimpleWorker, which runs jobs in its own long-lived
    process, in threads of one process (worker.threads): this is built once, under a
    lock, and one kept-alive HTTP session serves all of their arXiv requests (API,
    RSS, OAI), as arXiv asks for a single connection. (Under RQ's default forking
    worker it would be built once per job.)
    """
    with _building:
        return _build()


@cache
def _build() -> tuple[Settings, redis.Redis, PoliteSession]:
    settings = Settings.from_env()
    client = redis.Redis.from_url(settings.redis_address)
    limiter = ArxivLimiter(client, settings.arxiv_min_interval)
    return settings, client, PoliteSession(settings, limiter)


# Forget the built context (tests change the settings between jobs run in-process).
context.cache_clear = _build.cache_clear
