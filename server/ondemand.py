"""Listings of categories the mirror does not follow: fetched on a reader's visit.

``/arxiv/cs.CR`` on a mirror that follows cs.AI records the visit (so cs.CR is followed for
``follow_visited_days``), queues one feed fetch for cs.CR through the workers and the global
limiter unless one is already pending, and, while the mirror holds no listing for it, shows
a page that refreshes itself until the listing lands.
"""

from __future__ import annotations

import logging

from flask import Response, render_template

from papermirror.categories import Spec, category_name
from papermirror.listings import Listings
from papermirror.ondemand import CLAIM_TTL, OnDemand
from server.services import services

log = logging.getLogger(__name__)

JOB = "worker.feeds.fetch_on_demand"
REFRESH = 3  # seconds between the waiting page's reloads
RETRY_REFRESH = 60


def on_demand(spec: Spec, day: str | None, page: bool = True) -> Response | None:
    """Queue fetches for the spec's unfollowed terms; a waiting page while it has no listing.

    With ``page`` False (the Atom feed) only the visit counts: a feed reader that polls an
    unfollowed category keeps it followed, and its feed answers 404 until the listing lands.
    """
    svc = services()
    demand = OnDemand(svc.settings, svc.redis)
    terms = demand.unfollowed(spec)
    if not terms:
        return None
    claimed = demand.claim(demand.visit(terms))
    if claimed:
        try:
            svc.queue.enqueue(
                JOB,
                kwargs={"categories": claimed},
                job_timeout=CLAIM_TTL,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"listing on demand: {', '.join(claimed)}",
            )
        except Exception:
            demand.release(claimed)
            raise
    listings = Listings(svc.redis)
    if not page or day is not None or listings.latest(spec) is not None:
        return None
    pending = demand.pending(terms)
    outcomes = listings.outcomes(terms)
    states = {}
    for t in terms:
        outcome = outcomes.get(t)
        if pending.get(t) == "failed":
            states[t] = "failed"
        elif pending.get(t) == "queued" or outcome is None:
            states[t] = "fetching"
        else:
            states[t] = "empty" if outcome.get("status") in ("ok", "empty") else "failed"
    fetching = [t for t, s in states.items() if s == "fetching"]
    refresh = REFRESH if fetching else RETRY_REFRESH if "failed" in states.values() else None
    html = render_template(
        "listing_waiting.html",
        spec=spec,
        title=", ".join(f"{t} ({category_name(t)})" for t in spec.include),
        fetching=fetching,
        states=states,
        refresh=refresh,
        days=svc.settings.follow_visited_days,
    )
    resp = Response(html, status=202 if fetching else 200)
    resp.headers["Cache-Control"] = "no-store"
    if refresh:
        resp.headers["Retry-After"] = str(refresh)
    return resp
