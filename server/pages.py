"""The home page: open a paper, choose categories, and see how the daily fetches went."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, render_template

from papermirror.categories import ARCHIVES, CATEGORIES, category_name
from papermirror.daily import follow_terms
from papermirror.listings import Listings, archive_of
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


@bp.get("/")
def home():
    """Open any paper; choose categories; the fetch status of each followed category."""
    svc = services()
    followed, invalid = follow_terms(svc.settings.categories)
    listings = Listings(svc.redis)
    outcomes = listings.outcomes([*followed, *invalid])
    # A failed fetch shows its kind in plain words; the error text is for /admin.
    status = [
        {
            "term": t,
            "name": category_name(t) or "",
            "outcome": outcomes.get(t),
            "reason": feed_status(o)
            if (o := outcomes.get(t)) and o.get("status") == "error"
            else "",
        }
        for t in [*followed, *invalid]
    ]
    return render_template(
        "home.html",
        followed=followed,
        status=status,
        archives=archive_table(),
        daily_time=svc.settings.daily_time,
    )
