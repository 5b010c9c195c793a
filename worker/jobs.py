"""The RQ jobs: thin wrappers that build the domain objects and call them."""

from __future__ import annotations

import logging

from rq import Queue, get_current_job

from papermirror import keys
from papermirror.arxiv.api import ApiClient
from papermirror.arxiv.http import ArxivUnavailable
from papermirror.fetching import Drainer, enqueue_drain
from worker.context import context

log = logging.getLogger(__name__)


def drain_pending(followup: bool = False) -> dict:
    """Fetch every id that visitors asked for and the mirror lacks (see papermirror.fetching).

    Idempotent: with nothing pending it returns at once. When another drain
    holds the lock, or arXiv is unreachable, it schedules its own follow-up
    before it ends, so no pending id is left without a job. A failure is still
    raised, so RQ keeps it, with the reason, in the failed job registry.
    """
    settings, client, session = context()
    job = get_current_job()
    queue = Queue(job.origin if job else keys.FETCH_QUEUE, connection=client)
    try:
        report = Drainer(settings, client, ApiClient(settings, session)).drain(followup)
    except ArxivUnavailable as exc:
        delay = getattr(exc, "retry_in", None) or 5.0
        enqueue_drain(queue, delay)
        log.warning("arXiv unavailable; the next drain runs in %.0fs", delay)
        raise
    if report.retry_in is not None:
        enqueue_drain(queue, report.retry_in)
    return {
        "requests": report.requests,
        "found": len(report.found),
        "missing": len(report.missing),
        "failed": len(report.failed),
        "skipped": report.skipped,
        "retry_in": report.retry_in,
    }
