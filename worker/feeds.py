"""The daily feed job: fetch the followed categories' feeds now, and retry while arXiv lags.

``rq cron`` enqueues :func:`daily_fetch` every weekday (see worker.schedule)
with ``expect="today"``, and :func:`catch_up` every half hour for a run the
machine missed; ``papermirror fetch`` enqueues :func:`daily_fetch` with no
expectation and waits for it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from rq import Queue

from papermirror import keys
from papermirror.clock import EASTERN, expected_date, last_scheduled, missed_terms
from papermirror.daily import fetch_daily
from papermirror.listings import Listings
from papermirror.ondemand import OnDemand, followed_terms, prune
from worker.context import context

log = logging.getLogger(__name__)

DAILY_JOB = "worker.feeds.daily_fetch"
ON_DEMAND_JOB = "worker.feeds.fetch_on_demand"
JOB_TIMEOUT = 1800  # a few feed requests, each retried with backoff
RESULT_TTL = 7 * 24 * 3600


def daily_fetch(
    categories: list[str] | None = None, expect: str | None = None, attempt: int = 1
) -> dict:
    """Fetch and store the feeds of ``categories`` (default: the followed ones, configured
    and recently visited).

    ``expect`` is the announcement day the feeds must show: a date, ``"today"``
    (US Eastern, resolved when the job runs) or None for whatever they show.
    When a feed still shows an older day, or arXiv could not be reached, the
    job schedules itself again for those categories, waiting
    ``daily_retry_delay`` seconds, doubled at each of ``daily_retries`` tries.
    """
    settings, client, session = context()
    if expect == "today":
        expect = expected_date(datetime.now(UTC))
    if categories is None:
        categories = followed_terms(settings, client)
    report = fetch_daily(settings, client, session, categories, expect, attempt)
    result = report.to_dict() | {"expect": expect, "attempt": attempt}
    if settings.faq_enabled and settings.faq_categories:
        result["faq_queued"] = _prefetch_faqs(settings, client, result.get("outcomes", []))
    retry = report.retry_terms
    if retry and expect and attempt <= settings.daily_retries:
        delay = settings.daily_retry_delay * 2 ** (attempt - 1)
        Queue(keys.FETCH_QUEUE, connection=client).enqueue_in(
            timedelta(seconds=delay),
            DAILY_JOB,
            kwargs={"categories": retry, "expect": expect, "attempt": attempt + 1},
            job_timeout=JOB_TIMEOUT,
            result_ttl=RESULT_TTL,
            failure_ttl=RESULT_TTL,
            description=f"daily feeds, try {attempt + 1}: {', '.join(retry)}",
        )
        result["retry_in"] = delay
        log.warning(
            "feeds for %s not current (expected %s); try %d in %.0fs",
            ", ".join(retry),
            expect,
            attempt + 1,
            delay,
        )
    elif retry:
        log.error("feeds for %s failed; giving up after try %d", ", ".join(retry), attempt)
    return result


def catch_up() -> dict:
    """Run the daily fetch now for followed terms whose last scheduled run was missed.

    ``rq cron`` runs this every half hour and when it starts, so a mirror that was asleep
    or down at the scheduled time still gets the day's listings, and a fresh install gets
    them within a minute of starting (its terms were never fetched).
    """
    settings, client, _ = context()
    prune(client, settings.follow_visited_days)
    terms = followed_terms(settings, client)
    outcomes = Listings(client).outcomes(terms)
    now = datetime.now(UTC)
    due = missed_terms(terms, outcomes, now, settings.daily_time)
    if not due:
        return {"due": []}
    expect = last_scheduled(now, settings.daily_time).astimezone(EASTERN).date().isoformat()
    log.warning(
        "the scheduled fetch of %s has not run since %s; fetching now", ", ".join(due), expect
    )
    return daily_fetch(due, expect=expect) | {"due": due}


def fetch_on_demand(categories: list[str]) -> dict:
    """Fetch the feeds of categories a reader opened and the mirror did not follow.

    The server claimed each category (papermirror.ondemand) before queueing this job; the
    claims are released here, and a failed category waits a minute before a visit retries.
    """
    settings, client, session = context()
    demand = OnDemand(settings, client)
    try:
        report = fetch_daily(settings, client, session, categories)
    except BaseException:
        demand.release(categories, failed=categories)
        raise
    failed = [o.term for o in report.outcomes if o.status == "error"]
    demand.release(categories, failed)
    return report.to_dict()


def _prefetch_faqs(settings, client, outcomes: list[dict]) -> int:
    # The FAQ's own queues get the new papers, below any reader's click; a
    # failure here must not fail the day's listings.
    from worker.faq import prefetch

    try:
        return prefetch(settings, client, outcomes)
    except Exception:
        log.exception("could not queue the FAQ prefetch")
        return 0
