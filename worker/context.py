"""What every job in a worker process shares: settings, one Redis pool, one arXiv session."""

from __future__ import annotations

from functools import cache

import redis

from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.settings import Settings


@cache
def context() -> tuple[Settings, redis.Redis, PoliteSession]:
    """Built once per process that runs jobs, and shared by every job in it.

    (RQ's default worker forks a work horse per job, so there that is once per
    job; a SimpleWorker keeps it.) One kept-alive HTTP session serves all of the
    process's arXiv requests (API, RSS, OAI): arXiv asks for a single connection.
    """
    settings = Settings.from_env()
    client = redis.Redis.from_url(settings.redis_address)
    session = PoliteSession(settings, ArxivLimiter(client, settings.arxiv_min_interval))
    return settings, client, session
