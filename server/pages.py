"""The home page: open a paper, choose categories, and see how the daily fetches went."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, render_template

from papermirror import keys
from papermirror.categories import ARCHIVES, CATEGORIES, category_name
from papermirror.daily import follow_terms
from papermirror.listings import Listings, archive_of
from papermirror.ondemand import followed_terms
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
    status = [
        {"term": t, "name": category_name(t) or "", "outcome": outcomes.get(t)}
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
