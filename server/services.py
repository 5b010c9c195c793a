"""Per-app resources: the Redis client, the store, the RQ queue and the page cache."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Flask, current_app
from rq import Queue

from papermirror import keys
from papermirror.settings import Settings
from papermirror.store import Store
from server.pagecache import PageCache, render_digest


@dataclass
class Services:
    """What the views need, built once per app (redis-py pools connections itself)."""

    settings: Settings
    redis: redis.Redis
    store: Store
    queue: Queue
    pages: PageCache
    listing_pages: PageCache
    render_digest: str  # part of every page's ETag: the markup and the settings


def init_app(app: Flask) -> None:
    """Attach the services to ``app.extensions['papermirror']``."""
    settings: Settings = app.config["SETTINGS"]
    client = redis.Redis.from_url(
        settings.redis_address,
        socket_timeout=5,
        socket_connect_timeout=2,
        health_check_interval=30,
    )
    app.extensions["papermirror"] = Services(
        settings=settings,
        redis=client,
        store=Store(client),
        queue=Queue(keys.FETCH_QUEUE, connection=client),
        pages=PageCache(1024, settings.page_cache_seconds, counted=settings.metrics_on),
        # Listing pages are large (up to ~1 MB for a day of cs): keep few.
        listing_pages=PageCache(8, settings.page_cache_seconds, "listings", settings.metrics_on),
        render_digest=render_digest(settings),
    )


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["papermirror"]
