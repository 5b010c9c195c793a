"""Search and related papers: ``/search``, ``/search/feed``, ``/api/search``, ``/related/<id>``,
``/api/papers/<id>/related``.

The routes speak only to the engine interface (:mod:`papermirror.search`);
records come from Redis, so what a result shows is what the paper page shows.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Blueprint, Response, g, jsonify, render_template, request
from markupsafe import Markup

from papermirror.ids import parse_id
from papermirror.records import Paper
from papermirror.search import (
    MAX_RESULTS,
    PAGE_SIZE,
    Filters,
    Hits,
    Query,
    QueryError,
    SearchUnavailable,
    parse,
)
from papermirror.search.service import index_dir, reader
from server import search_args, search_json
from server.lookup import _decode  # popular records are decoded once per process
from server.pagecache import PageCache, conditional_response
from server.services import services

log = logging.getLogger(__name__)
bp = Blueprint("search", __name__)

RELATED = 8
FEED_VERSION = "1"


@dataclass
class Result:
    """One shown hit: the record, its score and the highlighted title and snippet."""

    paper: Paper
    score: float | None
    title: Markup
    snippet: Markup


@dataclass
class Page:
    """One page of results, and what asked for it."""

    q: str
    filters: Filters
    page: int
    total: int = 0
    results: list[Result] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """Pages the reader can reach (results stop at MAX_RESULTS)."""
        return max(1, (min(self.total, MAX_RESULTS) + PAGE_SIZE - 1) // PAGE_SIZE)


def _engine():
    return reader(str(index_dir(services().settings)))


@dataclass
class Found:
    """What the request asks for, the engine's hits and their stored records."""

    q: str
    query: Query
    filters: Filters
    page: int
    hits: Hits
    blobs: list[bytes | None]


def find() -> Found:
    """The request's search, run: hits and their records (QueryError, SearchUnavailable)."""
    q = request.args.get("q", "")
    query = parse(q)
    filters = search_args.filters()
    page = search_args.page_number()
    try:
        hits = _engine().search(query, filters, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    except (ValueError, OSError) as exc:
        if isinstance(exc, QueryError):
            raise
        log.warning("search engine refused %r: %s", q[:200], exc)
        raise QueryError("The search engine could not run this query; try simpler words.") from exc
    blobs = services().store.get_blobs([h.id for h in hits.hits])
    return Found(q, query, filters, page, hits, blobs)


def run_search(tex: bool = False, titles: bool = True) -> Page:
    """The page of results the request asks for (QueryError, SearchUnavailable).

    ``tex``: titles and snippets as the pages show paper text (see highlight.highlight).
    ``titles``: highlight the titles too (the JSON API shows them plain).
    """
    found = find()
    # Here, not at import: tantivy loads on the first search, so an idle web process
    # (most mirrors, most of the time) does not carry it.
    from papermirror.search.highlight import highlight, query_terms, snippet

    terms = query_terms(found.query)
    hits, blobs = found.hits, found.blobs
    out = Page(found.q, found.filters, found.page, hits.total)
    if tex:
        g.math_used = True  # results often hold math: load the page's renderer
    for hit, blob in zip(hits.hits, blobs, strict=True):
        if not blob:  # the index is a few seconds behind a deletion: skip
            continue
        p = _decode(blob)
        title = Markup(highlight(p.title, terms, tex)) if titles else Markup()
        text = Markup(snippet(p.abstract, terms, tex=tex))
        out.results.append(Result(p, hit.score, title, text))
        out.blobs.append(blob)
    return out


def _unavailable_json(exc: Exception):
    return jsonify(error=f"Search is not ready yet: {exc}."), 503, {"Retry-After": "30"}


@bp.get("/api/search")
def api_search():
    """``{"query", "total", "page", "papers": [...]}``; 400 with a plain message for bad input."""
    try:
        found = find()
    except QueryError as exc:
        return jsonify(error=str(exc)), 400
    except SearchUnavailable as exc:
        return _unavailable_json(exc)
    from papermirror.search.highlight import query_terms

    terms = query_terms(found.query)
    papers = [
        search_json.paper(blob, hit.score, terms)
        for hit, blob in zip(found.hits.hits, found.blobs, strict=True)
        if blob  # the index is a few seconds behind a deletion: skip
    ]
    payload = {"query": found.q, "total": found.hits.total, "page": found.page, "papers": papers}
    return search_json.answer(payload)


@bp.get("/search")
def search_page():
    """The results page (the box at the top of every page lands here for free text)."""
    if not request.args.get("q", "").strip():
        return _html(render_template("search.html", found=None, error=None, q=""), 200)
    try:
        found = run_search(tex=True)
    except QueryError as exc:
        html = render_template("search.html", found=None, error=str(exc), q=request.args["q"])
        return _html(html, 400)
    except SearchUnavailable as exc:
        html = render_template("search.html", found=None, error=str(exc), q=request.args["q"])
        return _html(html, 503)
    html = render_template("search.html", found=found, error=None, q=found.q, **_entry_context())
    return _html(html, 200)


def _entry_context() -> dict:
    """What the listing entry template needs besides the paper (as the listings give it)."""
    from server.listings import FOLD_AUTHORS

    return {"fold_authors": FOLD_AUTHORS, "faq_enabled": services().settings.faq_enabled}


def _html(html: str, status: int) -> Response:
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["X-Robots-Tag"] = "noindex"
    resp.headers["Cache-Control"] = "no-store" if status != 200 else "private, max-age=60"
    return resp


def _feed_cache() -> PageCache:
    ext = services()
    cache = getattr(ext, "_search_feeds", None)
    if cache is None:
        cache = PageCache(64, ext.settings.page_cache_seconds, counted=ext.settings.metrics_on)
        ext._search_feeds = cache
    return cache


@bp.get("/search/feed")
def search_feed():
    """Every search as an Atom feed, cached like the listings' feeds."""
    cache = _feed_cache()
    key = request.url_root + request.full_path
    page = cache.fresh(key)
    if page is not None:
        return conditional_response(page.body, page.etag, "application/atom+xml")
    try:
        found = run_search(titles=False)  # the feed shows titles plain
    except QueryError as exc:
        return Response(f"Bad search: {exc}\n", 400, mimetype="text/plain")
    except SearchUnavailable as exc:
        return Response(f"Search is not ready yet: {exc}.\n", 503, mimetype="text/plain")
    digest = hashlib.blake2b(f"{FEED_VERSION}|{key}|{found.total}".encode(), digest_size=16)
    for blob in found.blobs:
        digest.update(b"|" + blob)
    etag = digest.hexdigest()
    old = cache.get(key)
    if old is not None and old.etag == etag:
        body = old.body
    else:
        body = render_template(
            "search_feed.xml",
            found=found,
            updated=datetime.now(UTC).replace(microsecond=0).isoformat(),
        ).encode()
    cache.put(key, etag, body)
    return conditional_response(body, etag, "application/atom+xml")


def related_results(paper_id: str) -> tuple[Paper | None, list[Result], str | None]:
    """(the paper, its related papers, an error) for ``paper_id``."""
    ref = parse_id(paper_id)
    if ref is None:
        return None, [], "That is not an arXiv identifier (such as 2104.12255)."
    blob = services().store.get_blob(ref.id)
    paper = _decode(blob) if blob else None
    if paper is None:
        return None, [], "The mirror does not hold this paper yet: open its page first."
    same = request.args.get("same_category", "1").strip().lower() not in ("0", "false", "no")
    hits = _engine().related(paper, RELATED, same_category=same)
    blobs = services().store.get_blobs([h.id for h in hits])
    from papermirror.search.highlight import highlight

    results = []
    for hit, blob in zip(hits, blobs, strict=True):
        if blob:
            p = _decode(blob)
            title = Markup(highlight(p.title, frozenset(), tex=True))
            results.append(Result(p, hit.score, title, Markup()))
    return paper, results, None


@bp.get("/api/papers/<path:paper_id>/related")
def api_related(paper_id: str):
    """About 8 papers like this one, in the same primary category unless ``same_category=0``."""
    try:
        paper, results, error = related_results(paper_id)
    except SearchUnavailable as exc:
        return _unavailable_json(exc)
    if error:
        return jsonify(error=error), 404
    papers = [search_json.of_result(r) | {"snippet": None} for r in results]
    return search_json.answer({"id": paper.id, "papers": papers})


@bp.get("/related/<path:paper_id>")
def related_page(paper_id: str):
    """The related papers of one paper, as a page (the listings' "Related" links)."""
    try:
        paper, results, error = related_results(paper_id)
    except SearchUnavailable as exc:
        return _html(render_template("related.html", paper=None, results=[], error=str(exc)), 503)
    html = render_template(
        "related.html", paper=paper, results=results, error=error, **_entry_context()
    )
    return _html(html, 404 if error else 200)


@bp.get("/api/search/status")
def status():
    """The index of this host: papers held, and how far it is behind the writes."""
    from papermirror import keys
    from papermirror.search.index_files import read_position

    svc = services()
    path = index_dir(svc.settings)
    position = read_position(path)
    try:
        papers = _engine().count()
    except SearchUnavailable:
        return jsonify(status="building", papers=0, position=position), 503
    behind = len(
        svc.redis.xrange(keys.SEARCH_STREAM, min=f"({position}" if position else "-", count=1000)
    )
    return jsonify(
        status="ok" if behind == 0 else "catching up",
        papers=papers,
        position=position,
        writes_behind=behind if behind < 1000 else "1000+",
    )
