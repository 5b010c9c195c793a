"""The pending-set sweeper: every pending first visit gets a job, whether or not anyone comes back.

A first visit's id waits in the pending set until a drain job fetches it. Ids
could be stranded with no job at all: a drain killed mid-fetch whose retry
found the dead holder's lock and finished; a drain whose retries ran out while
arXiv was down; jobs lost when Redis restarted. ``rq cron`` runs :func:`sweep`
every ``sweep_interval`` seconds (see worker.schedule). When ids have waited
longer than ``sweep_after`` and no drain is running, queued or scheduled for a
retry, it enqueues one drain job.

While the same ids stay stranded (arXiv is down for hours), the sweeper backs
off, doubling its gap up to half an hour, so the failed-job registry does not
fill with one failed drain a minute.
"""

from __future__ import annotations

import logging
import time

import redis
from rq import Queue, Retry
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from papermirror import keys
from worker.context import context

log = logging.getLogger(__name__)

DRAIN_JOB = "worker.jobs.drain_pending"
# Holds the sweeper back after it enqueued a drain; doubled while ids stay stranded.
SWEEP_HOLD = f"{keys.PREFIX}sweep:hold"
SWEEP_STREAK = f"{keys.PREFIX}sweep:streak"
MAX_GAP = 1800


def enqueue_drain(queue: Queue) -> Job:
    """Enqueue one drain job with the options the web tier uses (server.lookup)."""
    return queue.enqueue(
        DRAIN_JOB,
        retry=Retry(max=3, interval=[5, 20, 60]),
        job_timeout=600,
        result_ttl=300,
        failure_ttl=7 * 24 * 3600,
        description="fetch pending papers from arXiv (sweeper)",
    )


def drain_in_hand(client: redis.Redis, queue: Queue) -> bool:
    """Whether a drain runs (its lock is held), waits in the queue, or waits for a retry."""
    if client.exists(keys.FETCH_LOCK):
        return True
    ids = queue.get_job_ids() + ScheduledJobRegistry(queue=queue).get_job_ids()
    for job in Job.fetch_many(ids, connection=client):
        if job is not None and job.func_name == DRAIN_JOB:
            return True
    return False


def sweep_once(client: redis.Redis, older_than: float, now: float | None = None) -> str:
    """One sweep; returns what it did: ``idle``, ``covered``, ``held`` or ``enqueued``."""
    now = time.time() if now is None else now
    stranded = client.zcount(keys.PENDING, "-inf", now - older_than)
    if not stranded:
        client.delete(SWEEP_STREAK)
        return "idle"
    queue = Queue(keys.FETCH_QUEUE, connection=client)
    if drain_in_hand(client, queue):
        return "covered"
    if client.exists(SWEEP_HOLD):
        return "held"
    streak = client.incr(SWEEP_STREAK)
    client.expire(SWEEP_STREAK, 2 * MAX_GAP)
    gap = min(MAX_GAP, older_than * 2 ** (streak - 1))
    client.set(SWEEP_HOLD, 1, ex=max(1, int(gap)))
    job = enqueue_drain(queue)
    log.warning("%d pending ids had no fetch job; enqueued %s", stranded, job.id)
    return "enqueued"


def sweep(older_than: float | None = None) -> str:
    """The cron job (see worker.schedule, which passes its ``sweep_after``)."""
    settings, client, _ = context()
    return sweep_once(client, settings.sweep_after if older_than is None else older_than)
