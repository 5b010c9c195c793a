"""Category listings: ``/arxiv/<spec>`` (HTML), ``/arxiv/<spec>/feed`` (Atom), ``/api/listings``.

A spec is a category (``cs.AI``), an archive (``cs``), a union (``cs.AI,cs.CL``
or ``cs.AI+cs.CL``) and exclusions (``-cs.CV``), in any case; the page shows
its latest announcement day, or ``?date=YYYY-MM-DD``. Rendered pages are
cached by an ETag over the day's stored listings and records, so a day of
``cs`` (~700 papers) is decoded and rendered once per change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, time
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request

from papermirror.categories import Spec, category_name, parse_spec
from papermirror.clock import EASTERN
from papermirror.listings import Entry, Listings, combine_raw, counts, expand
from papermirror.ondemand import followed_terms
from papermirror.records import Paper, to_dict
from server.fragments import fragments, slot, splice
from server.lookup import _decode as decode  # the decode cache paper pages use
from server.ondemand import on_demand
from server.pagecache import conditional_response, not_modified
from server.services import services

bp = Blueprint("listings", __name__)

PAGE_VERSION = "2"  # bump when a page changes without a template change
FEED_SUFFIX = "/feed"
FOLD_AUTHORS = 10  # names shown before "and N more" (folded only when 3 or more would hide)
SECTION_TITLES = {"new": "New submissions", "cross": "Cross-lists", "replace": "Replacements"}


MATCH_CACHE = 65536  # (spec, categories) pairs remembered; cleared when full
_matched: dict[tuple[str, tuple[str, ...]], bool] = {}


@dataclass
class Day:
    """One spec's listing of one announcement day, as the views need it."""

    spec: Spec
    date: str | None
    previous: str | None = None
    next: str | None = None
    entries: list[Entry] = field(default_factory=list)
    blobs: list[bytes | None] = field(default_factory=list)
    etag: str = ""

    def papers(self) -> list[tuple[Entry, Paper]]:
        """The entries with their records, excluded categories dropped."""
        return [(e, p) for e, p, _ in self.items()]

    def items(self) -> list[tuple[Entry, Paper, bytes]]:
        """(entry, record, stored blob) of each paper shown, excluded categories dropped.

        The same selection as :func:`papermirror.listings.select`, with each
        distinct category list matched once per process.
        """
        out = []
        spec = self.spec
        canonical = spec.canonical  # a property that joins: once, not per entry
        for e, blob in zip(self.entries, self.blobs, strict=True):
            if not blob:
                continue
            p = decode(blob)
            key = (canonical, p.categories)
            ok = _matched.get(key)
            if ok is None:
                ok = _matched[key] = spec.matches(p.categories)
                if len(_matched) > MATCH_CACHE:
                    _matched.clear()
            if ok:
                out.append((e, p, blob))
        return out


def load_day(spec: Spec, day: str | None) -> Day:
    """Read a day (the latest when ``day`` is None) with one round trip per kind of data."""
    svc = services()
    listings = Listings(svc.redis)
    day = day or listings.latest(spec)
    if day is None:
        return Day(spec, None)
    previous, following = listings.neighbours(spec, day)
    raw = listings.raw_day(spec, day)
    entries = _combined(spec, raw)
    blobs = svc.store.get_blobs([e.id for e in entries])
    # Feeds hold absolute links built from the request's host: it is part of the ETag.
    digest = hashlib.blake2b(
        f"{PAGE_VERSION}|{svc.render_digest}|{request.url_root}|{spec.canonical}|{day}".encode(),
        digest_size=16,
    )
    digest.update(f"|{previous}|{following}".encode())
    # One update over the joined parts: the same bytes as one per part, at a fraction
    # of the calls (a 1,000-entry listing has a thousand parts).
    digest.update(b"|" + b"|".join(part or b"" for part in (*raw, *blobs)))
    return Day(spec, day, previous, following, entries, blobs, digest.hexdigest())


_combine_cache: dict[str, tuple[tuple, list[Entry]]] = {}


def _combined(spec: Spec, raw) -> list[Entry]:
    # A day's listings change once a day, its records more often: reuse the union.
    raw = tuple(raw)
    hit = _combine_cache.get(spec.canonical)
    if hit is not None and hit[0] == raw:
        return hit[1]
    entries = combine_raw(spec, raw)
    if len(_combine_cache) > 256:
        _combine_cache.clear()
    _combine_cache[spec.canonical] = (raw, entries)
    return entries


def listing_page(text: str):
    """``/arxiv/<spec>`` and ``/arxiv/<spec>/feed``: the listing, or a clear 404."""
    from server.papers import not_found

    text = text.rstrip("/")
    feed = text.endswith(FEED_SUFFIX)
    spec_text = text.removesuffix(FEED_SUFFIX) if feed else text
    spec = parse_spec(spec_text)
    if spec is None:
        return not_found(
            f"“{text[:200]}” is neither an arXiv identifier nor a category "
            "(such as cs.AI, cs, or cs.AI,cs.CL)."
        )
    if spec_text != spec.canonical:
        target = "/arxiv/" + quote(spec.canonical, safe=",+-.") + (FEED_SUFFIX if feed else "")
        query = request.query_string.decode()
        return redirect(target + (f"?{query}" if query else ""), 301)
    day, error = _requested_day()
    if error:
        return not_found(error)
    # A category the mirror does not follow is fetched on this visit (server/ondemand.py).
    waiting = on_demand(spec, day, page=not feed)
    if waiting is not None:
        return waiting
    if feed:
        return _cached("feed", spec, day, _render_feed, "application/atom+xml")
    return _cached("html", spec, day, _render_html, "text/html")


@bp.get("/arxiv")
def choose():
    """The home page's category chooser: ``?cat=cs.AI&cat=cs.CL`` or ``?spec=...``."""
    terms = [t for t in request.args.getlist("cat") if t.strip()]
    text = request.args.get("spec", "").strip() or ",".join(terms)
    if not text:
        return redirect("/", 302)
    spec = parse_spec(text)
    if spec is None:
        from server.papers import not_found

        return not_found(
            "That choice is not a category spec this mirror can show (unknown names, "
            "or too many at once: an archive such as “cs” covers all of its categories)."
        )
    return redirect("/arxiv/" + quote(spec.canonical, safe=",+-."), 302)


@bp.get("/api/listings/<path:text>")
def api_listing(text: str):
    """``{"date", "spec", "previous", "next", "counts", "papers": [...]}`` for a day."""
    spec = parse_spec(text)
    if spec is None:
        return jsonify(error="not a category spec (such as cs.AI, cs, or cs.AI,cs.CL)"), 404
    day, error = _requested_day()
    if error:
        return jsonify(error="date is not a date (YYYY-MM-DD)"), 404
    return _cached("json", spec, day, _render_json, "application/json")


def _render_json(loaded: Day, day: str | None) -> tuple[bytes, int]:
    if _missing(loaded, day):
        spec = loaded.spec.canonical
        return _json(error=f"no listing for {spec} on {day or 'any day'}"), 404
    selected = loaded.papers()
    body = _json(
        date=loaded.date,
        spec=loaded.spec.canonical,
        previous=loaded.previous,
        next=loaded.next,
        counts=counts(e for e, _ in selected),
        papers=[
            to_dict(p) | {"version": e.version, "announce_type": e.announce_type}
            for e, p in selected
        ],
    )
    return body, 200


def _json(**fields) -> bytes:
    # The same bytes jsonify() would send.
    return (current_app.json.dumps(fields) + "\n").encode()


def _requested_day() -> tuple[str | None, str | None]:
    text = request.args.get("date", "").strip()
    if not text:
        return None, None
    try:
        return Date.fromisoformat(text).isoformat(), None
    except ValueError:
        return None, f"“{text[:40]}” is not a date (YYYY-MM-DD)."


def _cached(kind: str, spec: Spec, day: str | None, render, mimetype: str) -> Response:
    cache = services().listing_pages
    key = f"{kind}|{request.url_root}|{spec.canonical}|{day}"
    page = cache.fresh(key)
    if page is None:
        loaded = load_day(spec, day)
        if not_modified(loaded.etag):  # a revalidation of an unchanged day: nothing to render
            return conditional_response(b"", loaded.etag, mimetype)
        old = cache.get(key)
        if old is not None and old.etag == loaded.etag:
            body = old.body
        else:
            body, status = render(loaded, day)
            if status != 200:
                return Response(body, status=status, mimetype=mimetype)
        cache.put(key, loaded.etag, body)
        return conditional_response(body, loaded.etag, mimetype)
    return conditional_response(page.body, page.etag, mimetype)


def _title(spec: Spec) -> str:
    names = [f"{t} ({category_name(t)})" for t in spec.include]
    return ", ".join(names) + "".join(f", without {t}" for t in spec.exclude)


def _missing(loaded: Day, day: str | None) -> bool:
    if loaded.date is None:
        return True
    return bool(day) and not Listings(services().redis).has_day(loaded.spec, day)


def _render_html(loaded: Day, day: str | None) -> tuple[bytes, int]:
    svc = services()
    missing = _missing(loaded, day)
    items = [] if missing else loaded.items()
    by_section: dict[str, list] = {s: [] for s in SECTION_TITLES}
    for item in items:  # one pass, each entry's section read once
        group = by_section.get(item[0].section)
        if group is not None:
            group.append(item)
    sections = {s: [(e, p) for e, p, _ in found] for s, found in by_section.items()}
    # Entries render outside render_template, so context processors' values come in here.
    context = {"fold_authors": FOLD_AUTHORS, "faq_enabled": svc.settings.faq_enabled}
    chunks = {s: fragments.render(found, context) for s, found in by_section.items()}
    followed = set(expand(followed_terms(svc.settings, svc.redis)))
    unfollowed = [c for c in expand(loaded.spec.include) if c not in followed]
    html = render_template(
        "listing.html",
        spec=loaded.spec,
        title=_title(loaded.spec),
        day=loaded.date,
        weekday=Date.fromisoformat(loaded.date).strftime("%A, %-d %B %Y") if loaded.date else "",
        missing=missing,
        previous=loaded.previous,
        next=loaded.next,
        sections=sections,
        entries_html={s: slot(s) for s in SECTION_TITLES},
        section_titles=SECTION_TITLES,
        unfollowed=unfollowed,
        total=len(items),
        fold_authors=FOLD_AUTHORS,
    )
    return splice(html, chunks), 404 if missing else 200


def _render_feed(loaded: Day, day: str | None) -> tuple[bytes, int]:
    missing = _missing(loaded, day)
    updated = "1970-01-01T00:00:00Z"
    if loaded.date:
        # The day's announcement, dated as arXiv dates its feed: midnight Eastern.
        updated = datetime.combine(Date.fromisoformat(loaded.date), time(0), EASTERN).isoformat()
    xml = render_template(
        "listing_feed.xml",
        spec=loaded.spec,
        title=_title(loaded.spec),
        day=loaded.date,
        updated=updated,
        papers=[] if missing else loaded.papers(),
    )
    return xml.encode(), 404 if missing else 200
