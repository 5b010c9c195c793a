"""The global arXiv limiter: one request at a time, spaced, across every process.

arXiv asks for at most one request every 3 seconds over a single connection,
summed over all our machines. Every process (web workers, RQ workers, the CLI)
therefore takes a slot from Redis before it talks to arXiv:

* ``keys.ARXIV_LOCK`` holds a random token while one request is in flight;
  it is released by a compare-and-delete script, so a slow holder whose lock
  was taken over never frees somebody else's.
* ``keys.ARXIV_NEXT`` is the Redis server time (seconds, float) before which
  no request may start. Redis ``TIME`` is the only clock used, so processes on
  different machines agree even when their own clocks drift.

Usage::

    limiter = ArxivLimiter(redis_client, min_interval=3.0)
    with limiter.slot():
        response = session.get(...)  # exactly one request, body fully read
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from papermirror import keys
from papermirror.locks import kept_alive

log = logging.getLogger(__name__)

# Returns 0 when the slot was taken, else how many milliseconds to wait.
# Taking the slot also reserves ``next = now + interval``: even if the holder
# dies mid-request, the next request stays spaced from this one's start.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
if now < nxt then
  return math.ceil((nxt - now) * 1000)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], string.format('%.6f', now + tonumber(ARGV[3])))
redis.call('INCR', KEYS[3])
return 0
"""

# Push ``next`` to at least now + ARGV[1] and, when ARGV[2] is a token, drop
# the lock if (and only if) we still hold it.
_PUSH_AND_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local want = now + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if want > nxt then
  redis.call('SET', KEYS[2], string.format('%.6f', want))
  nxt = want
end
local released = 0
if ARGV[2] ~= '' and redis.call('GET', KEYS[1]) == ARGV[2] then
  redis.call('DEL', KEYS[1])
  released = 1
end
return {released, string.format('%.6f', nxt - now)}
"""


class SlotTimeout(TimeoutError):
    """No arXiv slot could be taken within the caller's deadline."""


class ArxivLimiter:
    """A Redis-backed limiter shared by every process that talks to arXiv.

    ``min_interval`` is the least time between the end of one request and the
    start of the next (so also between two starts). ``lock_ttl`` bounds how
    long a crashed holder can block everyone else.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        min_interval: float,
        lock_ttl: float = 15.0,
        poll: float = 0.05,
    ) -> None:
        self.redis = redis_client
        self.min_interval = float(min_interval)
        self.lock_ttl = float(lock_ttl)
        self.poll = float(poll)
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._push = redis_client.register_script(_PUSH_AND_RELEASE)

    @contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the one arXiv connection for the duration of the block.

        Waits until no other process holds the lock and ``next`` has passed,
        then yields. On exit (also on error) sets ``next`` to at least
        ``now + min_interval``, measured after the request finished, and frees
        the lock. Raises :class:`SlotTimeout` if ``timeout`` seconds pass first.
        """
        token = uuid.uuid4().hex
        self._take(token, timeout)
        try:
            # The lock TTL is short so that a crashed holder frees the slot soon,
            # but a request may legitimately outlast it: requests' timeout bounds
            # each socket read, not the whole download, so no TTL derived from
            # the timeout is a safe bound. A heartbeat extends the lock instead.
            with kept_alive(self.redis, keys.ARXIV_LOCK, token, self.lock_ttl):
                yield
        finally:
            released, _ = self._push(
                keys=[keys.ARXIV_LOCK, keys.ARXIV_NEXT], args=[self.min_interval, token]
            )
            if not released:
                log.warning("arXiv lock expired while held; another process may have overlapped")

    def defer(self, seconds: float) -> float:
        """Make every process wait at least ``seconds`` from now (Retry-After, 429).

        Never moves ``next`` earlier. Returns how many seconds from now the
        next request may start.
        """
        _, wait = self._push(keys=[keys.ARXIV_LOCK, keys.ARXIV_NEXT], args=[max(0.0, seconds), ""])
        return float(wait)

    def calls(self) -> int:
        """How many requests have been started through any limiter on this Redis."""
        return int(self.redis.get(keys.ARXIV_CALLS) or 0)

    def _take(self, token: str, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        ttl_ms = max(1, int(self.lock_ttl * 1000))
        while True:
            wait_ms = int(
                self._acquire(
                    keys=[keys.ARXIV_LOCK, keys.ARXIV_NEXT, keys.ARXIV_CALLS],
                    args=[token, ttl_ms, self.min_interval],
                )
            )
            if wait_ms == 0:
                return
            # While someone holds the lock we cannot know when they finish,
            # so poll; otherwise sleep exactly until ``next``.
            wait = self.poll if wait_ms < 0 else wait_ms / 1000
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SlotTimeout(f"no arXiv slot free within {timeout:.1f}s")
                wait = min(wait, left)
            time.sleep(wait)
