"""The home page: open a paper, choose categories, and see how the daily fetches went."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import redis
from flask import Blueprint, current_app, render_template, send_from_directory
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from papermirror import keys
from papermirror.categories import ARCHIVES, CATEGORIES, category_name, follow_terms
from papermirror.listings import Listings, archive_of
from papermirror.ondemand import followed_terms
from papermirror.reasons import feed_status
from server.services import services

bp = Blueprint("pages", __name__)


@cache  # the taxonomy is constant: build the chooser's table once per process
def archive_table() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(archive, name, [(category, name)]) for the category chooser."""
    table = []
    for archive, name in ARCHIVES.items():
        cats = [(c, n) for c, n in CATEGORIES.items() if "." in c and archive_of(c) == archive]
        table.append((archive, name, cats))
    return table


def terms_with_data(listings: Listings) -> set[str]:
    """The categories and archives that have at least one stored listing (one round trip)."""
    terms = list(ARCHIVES) + [c for c in CATEGORIES if "." in c]
    with listings.redis.pipeline(transaction=False) as pipe:
        for t in terms:
            pipe.exists(keys.listing_dates(t))
        return {t for t, n in zip(terms, pipe.execute(), strict=True) if n}


@bp.get("/")
def home():
    """Open any paper; choose categories; the fetch status of each followed category."""
    svc = services()
    followed, invalid = follow_terms(svc.settings.categories)
    listings = Listings(svc.redis)
    outcomes = listings.outcomes([*followed, *invalid])
    # A failed fetch shows its kind in plain words; the error text is for /admin.
    retries = _retry_times(svc) if any(o.get("retry") for o in outcomes.values()) else {}
    status = [
        {
            "term": t,
            "name": category_name(t) or "",
            "outcome": outcomes.get(t),
            "reason": _reason(outcomes.get(t), retries.get(t)),
        }
        for t in [*followed, *invalid]
    ]
    visited = [t for t in followed_terms(svc.settings, svc.redis) if t not in followed]
    return render_template(
        "home.html",
        followed=followed,
        visited=visited,
        with_data=terms_with_data(listings),
        status=status,
        archives=archive_table(),
        daily_time=svc.settings.daily_time,
    )


ROBOTS = """\
# Paper pages are welcome. Lookups, the API and address-bar forms are not for crawlers:
# each unknown identifier costs this mirror a request to arXiv.
User-agent: *
Disallow: /api/
Disallow: /go
Disallow: /http
Disallow: /healthz
Allow: /
"""


@bp.get("/robots.txt")
def robots():
    """What crawlers may fetch."""
    return (
        ROBOTS,
        200,
        {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "max-age=86400"},
    )


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the same icon as the pages'."""
    response = send_from_directory(current_app.static_folder, "favicon.png", mimetype="image/png")
    response.headers["Cache-Control"] = "max-age=604800"
    return response


@bp.get("/status")
def status():
    """The mirror's health in words, for readers (the JSON stays at /healthz)."""
    svc = services()
    state = {"redis": True, "workers": 0, "pending": 0}
    try:
        svc.redis.ping()
        state["workers"] = Worker.count(connection=svc.redis)
        state["pending"] = svc.store.pending_count()
        state["calls"] = int(svc.redis.get(keys.ARXIV_CALLS) or 0)
        followed, invalid = follow_terms(svc.settings.categories)
        outcomes = Listings(svc.redis).outcomes([*followed, *invalid])
    except redis.RedisError:
        state["redis"] = False
        followed, outcomes = [], {}
    code = 200 if state["redis"] else 503
    return render_template("status.html", state=state, followed=followed, outcomes=outcomes), code


def _reason(outcome: dict | None, retry_at: datetime | None) -> str:
    if not outcome or outcome.get("status") != "error":
        return ""
    reason = feed_status(outcome)
    if retry_at is not None and outcome.get("retry"):
        reason = reason.removesuffix("; will retry") + f"; retrying at {retry_at:%H:%M} UTC"
    return reason


def _retry_times(svc) -> dict[str, datetime]:
    """Followed term -> when the daily job's scheduled retry will fetch it (the soonest)."""
    registry = Queue(keys.FETCH_QUEUE, connection=svc.redis).scheduled_job_registry
    times: dict[str, datetime] = {}
    for job_id in registry.get_job_ids(0, 19):
        try:
            job = Job.fetch(job_id, connection=svc.redis)
            at = registry.get_scheduled_time(job_id)
        except NoSuchJobError:  # it just ran or expired: no time to show
            continue
        for term in (job.kwargs or {}).get("categories") or []:
            if term not in times or at < times[term]:
                times[term] = at
    return times
