"""Coalesced first-visit fetches: many visitors' new ids, few arXiv requests.

The web tier adds ids it lacks to the fair pending queue (papermirror.pending)
and calls :func:`enqueue_drain`. Whichever worker takes the drain lock fetches
the pending ids in batches of up to 100 per ``id_list`` request. It waits for
the global limiter to be free *before* it reads each batch, so ids that arrive
meanwhile join it: 100 first visits at once cost one or two requests, and a
lone visit on an idle mirror goes out at once.

One drain job at a time is queued (``keys.FETCH_QUEUED``), however many
visitors poll. A drain that finds the lock taken, or that fails because arXiv
is down, schedules its own follow-up (:func:`enqueue_drain` with a delay)
instead of finishing: no pending id is left without a job that will fetch it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import redis

from papermirror import keys, metrics
from papermirror.locks import try_lock
from papermirror.pending import PendingQueue
from papermirror.settings import Settings
from papermirror.store import Store

if TYPE_CHECKING:
    from papermirror.arxiv.api import ApiClient

log = logging.getLogger(__name__)

# The drain lock frees itself this many seconds after its holder dies.
LOCK_TTL = 15.0
DRAIN_JOB = "worker.jobs.drain_pending"
# A queued job that never started (lost with its Redis) stops blocking new ones after this.
QUEUED_TTL = 60
JOB_OPTIONS = {
    "job_timeout": 600,
    "result_ttl": 300,
    "failure_ttl": 7 * 24 * 3600,
    "description": "fetch pending papers from arXiv",
}
# Background retries while arXiv fails: 5 s, 15 s, 45 s, 135 s, then every 5 minutes.
RETRY_FIRST, RETRY_FACTOR, RETRY_MAX = 5.0, 3.0, 300.0
# Longest a drain waits for the limiter before reading a batch (it then waits in the request).
SLOT_WAIT = 60.0


def enqueue_drain(queue, delay: float = 0.0) -> bool:
    """Make sure a drain job will run, now or in ``delay`` seconds; False if one already waits.

    ``queue`` is the RQ queue (an ``rq.Queue``; this package does not import
    RQ). At most one drain job waits to start now (``keys.FETCH_QUEUED``) and
    one follow-up waits for its time (``keys.FETCH_FOLLOWUP``), so visitors
    polling a page, the sweeper and failed drains never multiply jobs; a
    follow-up never holds back a prompt drain for newly asked ids.
    """
    client = queue.connection
    flag = keys.FETCH_FOLLOWUP if delay > 0 else keys.FETCH_QUEUED
    if not client.set(flag, 1, nx=True, ex=int(delay + QUEUED_TTL)):
        return False
    if delay > 0:
        queue.enqueue_in(
            timedelta(seconds=delay), DRAIN_JOB, kwargs={"followup": True}, **JOB_OPTIONS
        )
    else:
        queue.enqueue(DRAIN_JOB, **JOB_OPTIONS)
    return True


def followup_due(client: redis.Redis) -> bool:
    """Whether a follow-up drain is already scheduled (polling need not enqueue another)."""
    return bool(client.exists(keys.FETCH_FOLLOWUP))


def retry_delay(failures: int, retry_after: float | None = None) -> float:
    """Seconds before the background retry after ``failures`` failed drains in a row."""
    delay = min(RETRY_MAX, RETRY_FIRST * RETRY_FACTOR ** max(0, failures - 1))
    return max(delay, retry_after or 0.0)


@dataclass
class DrainReport:
    """What one drain did: requests made and the outcome per id."""

    requests: int = 0
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: bool = False  # another worker held the drain lock
    # Seconds after which a follow-up drain must run (ids left pending), or None.
    retry_in: float | None = None


class Drainer:
    """Fetches every pending id, in batches, under the drain lock."""

    def __init__(self, settings: Settings, client: redis.Redis, api: ApiClient):
        self.settings = settings
        self.redis = client
        self.store = Store(client)
        self.pending = PendingQueue(client, settings)
        self.api = api

    def drain(self, followup: bool = False) -> DrainReport:
        """Fetch until nothing is pending (``followup``: this is a scheduled follow-up).

        Raises ArxivUnavailable after recording it for the visitors; the
        exception's ``retry_in`` says when to try again. When another drain
        holds the lock, returns at once with ``retry_in`` set to when that lock
        would free itself were its holder dead.
        """
        report = DrainReport()
        # From now on a new first visit must enqueue another job: this one may
        # already have read the pending set when that visit's id arrives.
        self.redis.delete(keys.FETCH_FOLLOWUP if followup else keys.FETCH_QUEUED)
        while True:
            with try_lock(self.redis, keys.FETCH_LOCK, LOCK_TTL) as taken:
                if not taken:
                    report.skipped = report.requests == 0
                    if self.pending.count():
                        left = self.redis.pttl(keys.FETCH_LOCK)
                        report.retry_in = max(0.5, left / 1000 + 0.5 if left > 0 else 0.5)
                    return report
                self._drain_locked(report)
            # An id queued while we held the lock had its own job leave at once;
            # look again now that the lock is free, so it cannot be stranded.
            if not self.pending.count():
                return report

    def _drain_locked(self, report: DrainReport) -> None:
        # Only the workers drain: the web tier, which enqueues, need not load the
        # arXiv client and requests (~3 MB in each web process).
        from papermirror.arxiv.api import BATCH_SIZE, ArxivError, ArxivUnavailable

        limiter = self.api.session.limiter
        if self.settings.coalesce_window > 0 and self.pending.count():
            time.sleep(self.settings.coalesce_window)  # let a burst of visits gather
        while self.pending.count():
            # Read the batch only once the limiter would let it go: ids that
            # arrive while it is busy ride along instead of waiting a turn.
            limiter.wait_free(SLOT_WAIT)
            batch = self.pending.batch(BATCH_SIZE)
            if not batch:
                return
            metrics.FETCH_BATCH.observe(self.redis, len(batch))
            try:
                result = self.api.fetch(batch)
            except ArxivUnavailable as exc:
                # Leave the ids pending for the follow-up; visitors see the reason meanwhile.
                failures = self.redis.incr(keys.FETCH_FAILS)
                self.redis.expire(keys.FETCH_FAILS, 3600)
                exc.retry_in = retry_delay(failures, exc.retry_after)
                self._failed(batch, exc.code, str(exc), exc.retry_in)
                report.failed.extend(batch)
                raise
            except ArxivError as exc:
                # arXiv refused the request itself: retrying the same ids cannot help.
                self._failed(batch, "refused", str(exc), None)
                self.pending.clear(batch)
                report.failed.extend(batch)
                report.requests += 1
                log.warning("arXiv refused %d ids: %s", len(batch), exc)
                continue
            report.requests += 1
            self.store.upsert_many(result.found.values())
            # An id arXiv calls malformed names no paper either; both are "not found".
            self.store.mark_missing([*result.missing, *result.invalid], self.settings.missing_ttl)
            self.pending.clear(batch)
            self.redis.delete(
                keys.FETCH_FAILS,
                *(keys.fetch_error(i) for i in batch),
                *(keys.fetch_reason(i) for i in batch),
            )
            self._landed(batch)
            report.found.extend(result.found)
            report.missing.extend([*result.missing, *result.invalid])
            log.info(
                "fetched %d ids: %d found, %d missing",
                len(batch),
                len(result.found),
                len(result.missing),
            )

    def _failed(self, batch: list[str], code: str, detail: str, retry_in: float | None) -> None:
        """Keep the detail for logs and the operator, and a short code for readers."""
        log.warning("fetching %d ids failed (%s): %s", len(batch), code, detail)
        ttl = int(max(self.settings.error_ttl, (retry_in or 0) + 30))
        retry_at = f"{time.time() + retry_in:.0f}" if retry_in is not None else ""
        self.store.set_fetch_error(batch, detail, ttl)
        old = self.redis.get(keys.ARXIV_TROUBLE) if retry_in is not None else None
        with self.redis.pipeline(transaction=False) as pipe:
            for paper_id in batch:
                pipe.set(keys.fetch_reason(paper_id), f"{code}|{retry_at}", ex=ttl)
            if retry_in is not None:
                # Every waiting page learns when the next attempt is: the follow-up drain's time.
                since = old.decode().split("|")[1] if old else f"{time.time():.0f}"
                pipe.set(keys.ARXIV_TROUBLE, f"{code}|{since}|{retry_at}", ex=ttl)
            pipe.execute()
        self._landed(batch)

    def _landed(self, batch: list[str]) -> None:
        """Wake the pages waiting for these ids."""
        try:
            self.redis.publish(keys.FETCH_DONE, ",".join(batch))
        except redis.RedisError as exc:
            log.warning("could not announce fetched ids: %s", exc)
