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
from papermirror.daily import expected_date, fetch_daily, follow_terms, missed_terms
from papermirror.listings import Listings
from worker.context import context

log = logging.getLogger(__name__)

DAILY_JOB = "worker.feeds.daily_fetch"
JOB_TIMEOUT = 1800  # a few feed requests, each retried with backoff
RESULT_TTL = 7 * 24 * 3600


def daily_fetch(
    categories: list[str] | None = None, expect: str | None = None, attempt: int = 1
) -> dict:
    """Fetch and store the feeds of ``categories`` (default: the followed ones).

    ``expect`` is the announcement day the feeds must show: a date, ``"today"``
    (US Eastern, resolved when the job runs) or None for whatever they show.
    When a feed still shows an older day, or arXiv could not be reached, the
    job schedules itself again for those categories, waiting
    ``daily_retry_delay`` seconds, doubled at each of ``daily_retries`` tries.
    """
    settings, client, session = context()
    if expect == "today":
        expect = expected_date(datetime.now(UTC))
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
    """Run the daily fetch now for followed terms whose scheduled run today was missed.

    ``rq cron`` runs this every half hour and when it starts, so a mirror that
    was asleep or down at the scheduled time still gets the day's listings.
    """
    settings, client, _ = context()
    terms, _ = follow_terms(settings.categories)
    outcomes = Listings(client).outcomes(terms)
    due = missed_terms(terms, outcomes, datetime.now(UTC), settings.daily_time)
    if not due:
        return {"due": []}
    log.warning("the scheduled fetch of %s did not run today; fetching now", ", ".join(due))
    return daily_fetch(due, expect="today") | {"due": due}


def _prefetch_faqs(settings, client, outcomes: list[dict]) -> int:
    # The FAQ's own queues get the new papers, below any reader's click; a
    # failure here must not fail the day's listings.
    from worker.faq import prefetch

    try:
        return prefetch(settings, client, outcomes)
    except Exception:
        log.exception("could not queue the FAQ prefetch")
        return 0
