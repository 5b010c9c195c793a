"""Wake the pages waiting for a fetch the moment it ends, instead of polling Redis.

The drainer publishes on ``keys.FETCH_DONE`` after each batch (and the HTTP
layer when arXiv starts failing). One listener thread per web process
subscribes and bumps a generation counter; waiting request threads sleep on a
condition until the counter moves. They still re-check Redis at least every
``FALLBACK`` seconds, so a lost message (or a Redis without pub/sub) costs
latency, never correctness.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis

from papermirror import keys

log = logging.getLogger(__name__)

FALLBACK = 0.25  # longest sleep between two looks at Redis while waiting


class FetchWatch:
    """A per-process listener on ``keys.FETCH_DONE``."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._cond = threading.Condition()
        self._gen = 0
        self._pid: int | None = None

    def generation(self) -> int:
        """The current generation; read it *before* looking at Redis, then wait on it."""
        self._ensure_listening()
        return self._gen

    def wait(self, since: int, timeout: float) -> bool:
        """Sleep until a fetch ends after generation ``since``, or ``timeout`` (capped)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._gen != since, min(timeout, FALLBACK))

    def _ensure_listening(self) -> None:
        # After the web server forks a worker, the parent's thread is gone: start one here.
        if self._pid == os.getpid():
            return
        with self._cond:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            threading.Thread(target=self._listen, name="fetch watch", daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(keys.FETCH_DONE)
                for message in pubsub.listen():
                    if message and message.get("type") == "message":
                        with self._cond:
                            self._gen += 1
                            self._cond.notify_all()
            except (redis.RedisError, OSError, ValueError) as exc:
                log.info("fetch watch lost Redis (%s); waiting pages fall back to polling", exc)
                time.sleep(1.0)


_watches: dict[int, FetchWatch] = {}
_lock = threading.Lock()


def watch_for(client: redis.Redis) -> FetchWatch:
    """The process's watch for this Redis client."""
    with _lock:
        watch = _watches.get(id(client))
        if watch is None:
            # pub/sub blocks on its socket: give it a client without a read timeout.
            kwargs = dict(client.connection_pool.connection_kwargs)
            kwargs.pop("socket_timeout", None)
            listener = redis.Redis(
                connection_pool=redis.ConnectionPool(
                    connection_class=client.connection_pool.connection_class, **kwargs
                )
            )
            watch = _watches[id(client)] = FetchWatch(listener)
        return watch
