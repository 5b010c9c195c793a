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

Redis alone is not trusted with the rule, though: a Redis restarted without
its data, or a failover, would forget ``next`` and the lock. Each process also
keeps its own floor (:data:`_PROCESS`): one request at a time from this
process, and none before its own last request's end plus the interval.

Usage::

    limiter = ArxivLimiter(redis_client, min_interval=3.0)
    with limiter.slot():
        response = session.get(...)  # exactly one request, body fully read
"""

from __future__ import annotations

import logging
import os
import threading
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


# How many intervals of a defer() the process floor keeps, besides Redis.
FLOOR_DEFER_INTERVALS = 10


class SlotTimeout(TimeoutError):
    """No arXiv slot could be taken within the caller's deadline."""


class _ProcessFloor:
    """This process's own share of the rule, which holds even if Redis forgets.

    ``busy`` is held while any thread of the process talks to arXiv; ``next_at``
    (time.monotonic) is when this process may start its next request.
    """

    def __init__(self) -> None:
        self.busy = threading.Lock()
        self.next_at = 0.0
        self._guard = threading.Lock()

    def push(self, seconds: float) -> None:
        with self._guard:
            self.next_at = max(self.next_at, time.monotonic() + seconds)

    def wait_left(self) -> float:
        return self.next_at - time.monotonic()


_PROCESS = _ProcessFloor()


def _reset_after_fork() -> None:
    # A forked child must not inherit a lock some other thread of the parent held;
    # it keeps the parent's floor, which only ever makes it wait longer.
    global _PROCESS
    floor = _ProcessFloor()
    floor.next_at = _PROCESS.next_at
    _PROCESS = floor


os.register_at_fork(after_in_child=_reset_after_fork)


def lock_ttl_for(timeout: float) -> float:
    """A lock lifetime that covers a whole request of ``timeout`` seconds, with margin.

    The polite HTTP layer bounds a request's total time by its timeout, so a
    holder that stalls (swapped out, SIGSTOP) keeps the lock at least that long
    even without its heartbeat.
    """
    return timeout + max(5.0, timeout / 2)


class ArxivLimiter:
    """A Redis-backed limiter shared by every process that talks to arXiv.

    ``min_interval`` is the least time between the end of one request and the
    start of the next (so also between two starts). ``lock_ttl`` bounds how
    long a crashed holder can block everyone else; :meth:`cover` raises it to
    cover a request timeout.
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

    def cover(self, timeout: float) -> None:
        """Make the lock outlive a whole request of ``timeout`` seconds, with margin."""
        self.lock_ttl = max(self.lock_ttl, lock_ttl_for(timeout))

    @contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the one arXiv connection for the duration of the block.

        Waits until no other process holds the lock and ``next`` has passed
        (in Redis and in this process), then yields. On exit (also on error:
        a timeout counts from when it happened) sets ``next`` to at least
        ``now + min_interval`` and frees the lock. Raises :class:`SlotTimeout`
        if ``timeout`` seconds pass first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        floor = _PROCESS
        if not floor.busy.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            raise SlotTimeout(f"no arXiv slot free within {timeout:.1f}s")
        try:
            self._sleep(floor.wait_left(), deadline, timeout)
            token = uuid.uuid4().hex
            self._take(token, deadline, timeout)
            try:
                # requests' timeout bounds each socket read, so the HTTP layer bounds the
                # whole request itself; the heartbeat covers a holder still legitimately busy.
                with kept_alive(self.redis, keys.ARXIV_LOCK, token, self.lock_ttl):
                    yield
            finally:
                floor.push(self.min_interval)  # first: Redis may be the thing that failed
                released, _ = self._push(
                    keys=[keys.ARXIV_LOCK, keys.ARXIV_NEXT], args=[self.min_interval, token]
                )
                if not released:
                    log.warning(
                        "arXiv lock expired while held; another process may have overlapped"
                    )
        finally:
            floor.busy.release()

    def defer(self, seconds: float) -> float:
        """Make every process wait at least ``seconds`` from now (Retry-After, 429).

        Never moves ``next`` earlier. Returns how many seconds from now the
        next request may start.
        """
        # The process keeps a bounded share of a long wait: its floor is about spacing,
        # and a Retry-After of hours must not outlive a Redis that was reset on purpose.
        _PROCESS.push(min(max(0.0, seconds), FLOOR_DEFER_INTERVALS * self.min_interval))
        _, wait = self._push(keys=[keys.ARXIV_LOCK, keys.ARXIV_NEXT], args=[max(0.0, seconds), ""])
        return float(wait)

    def next_start_in(self) -> float:
        """Seconds until the next request may start (0: now), in Redis and in this process.

        While someone holds the lock the answer is at least one interval: the
        holder's request must end first.
        """
        left, held = self._state()
        return max(left, self.min_interval) if held else left

    def _state(self) -> tuple[float, bool]:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.get(keys.ARXIV_NEXT)
            pipe.exists(keys.ARXIV_LOCK)
            (secs, micros), nxt, held = pipe.execute()
        left = float(nxt or 0) - (secs + micros / 1e6)
        return max(0.0, left, _PROCESS.wait_left()), bool(held)

    def wait_free(self, timeout: float) -> None:
        """Sleep until a request could start at once, or ``timeout`` passes (never raises)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            wait, held = self._state()
            if wait <= 0 and not held:
                return
            time.sleep(min(left, self.poll if held else wait))

    def calls(self) -> int:
        """How many requests have been started through any limiter on this Redis."""
        return int(self.redis.get(keys.ARXIV_CALLS) or 0)

    def _sleep(self, wait: float, deadline: float | None, timeout: float | None) -> None:
        if wait <= 0:
            return
        if deadline is not None and time.monotonic() + wait > deadline:
            raise SlotTimeout(f"no arXiv slot free within {timeout:.1f}s")
        time.sleep(wait)

    def _take(self, token: str, deadline: float | None, timeout: float | None) -> None:
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
