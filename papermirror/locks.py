"""Redis locks that a crashed holder cannot keep for long.

A lock is a key holding the holder's random token, with a short TTL. While the
holder is alive, a heartbeat thread extends it; when the holder dies, the lock
frees itself within one TTL. Release is compare-and-delete, so a holder whose
lock already expired never frees somebody else's.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

log = logging.getLogger(__name__)

_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@contextmanager
def kept_alive(client: redis.Redis, key: str, token: str, ttl: float) -> Iterator[None]:
    """Extend ``key`` (held with ``token``) every ``ttl / 3`` seconds while the block runs."""
    extend = client.register_script(_EXTEND)
    ttl_ms = max(1, int(ttl * 1000))
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(ttl / 3):
            try:
                if not extend(keys=[key], args=[token, ttl_ms]):
                    log.warning("lock %s was lost while still in use", key)
                    return
            except redis.RedisError as exc:
                # Keep beating: a Redis hiccup shorter than the TTL is harmless.
                log.warning("could not extend lock %s: %s", key, exc)

    thread = threading.Thread(target=beat, name=f"heartbeat {key}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def try_lock(client: redis.Redis, key: str, ttl: float) -> Iterator[bool]:
    """Take ``key`` if it is free, without waiting; yields whether it was taken.

    A taken lock is kept alive for the block and released after it.
    """
    token = uuid.uuid4().hex
    if not client.set(key, token, nx=True, px=max(1, int(ttl * 1000))):
        yield False
        return
    try:
        with kept_alive(client, key, token, ttl):
            yield True
    finally:
        client.register_script(_RELEASE)(keys=[key], args=[token])
