"""Paper pages and the ways to reach them: /arxiv/<ids>, /go?url= and /<any paper URL>."""

from __future__ import annotations

import hashlib
import threading
import time
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from papermirror.ids import PaperRef, mirror_path, parse_id, resolve
from papermirror.listing_urls import listing_target
from server.fetchwatch import watch_for
from server.lookup import classify, lookup
from server.pagecache import conditional_response, not_modified
from server.paperinfo import page_info
from server.services import services

bp = Blueprint("papers", __name__)
prefix_bp = Blueprint("prefix", __name__)

MAX_IDS = 50  # papers on one page; more is surely a mistake, and each may cost a fetch
PAGE_VERSION = "3"  # bump when the page changes without a template change
POLL_HOLD = 20.0  # seconds a waiting page's long-poll is held open when nothing changes
POLL_SLOTS = 16  # long-polls held open at once per process (a quarter of the default threads)
_poll_slots = threading.BoundedSemaphore(POLL_SLOTS)


def parse_id_list(spec: str) -> list[PaperRef] | None:
    """``id1,id2`` from a path into refs, or None unless every part is an id."""
    parts = [p for p in spec.strip().strip("/").split(",") if p.strip()]
    if not parts or len(parts) > MAX_IDS:
        return None
    refs = [parse_id(p.strip()) for p in parts]
    if any(r is None for r in refs):
        return None
    return list(dict.fromkeys(refs))


def not_found(message: str, status: int = 404):
    """The helpful 'nothing here' page."""
    return render_template("not_found.html", message=message), status


@bp.get("/arxiv/<path:spec>")
def paper_page(spec: str):
    """One paper, a version of it (``<id>v<N>``), or several (``<id1>,<id2>``)."""
    refs = parse_id_list(spec)
    if refs is None:
        return listing_or_404(spec)
    canonical = mirror_path(refs)
    if canonical != request.path:
        return redirect(canonical, 301)
    if "poll" in request.args:
        return _poll(refs, request.args.get("poll", ""))
    page = services().pages.fresh(request.url_root + canonical)
    if page is not None:
        return conditional_response(page.body, page.etag)
    results = lookup(refs, client=request.remote_addr)
    states = {r.state for r in results}
    infos = {r.ref.id: page_info(r.paper, r.ref.version) for r in results if r.state == "found"}
    # Asked for a version newer than stored, and arXiv is being asked: refresh until it answers.
    checking = any(
        r.state == "found" and infos[r.ref.id].checking and (r.ref.version or 0) > r.paper.version
        for r in results
    )
    # A page that will change when arXiv answers is not cached: its next view shows the answer.
    if states == {"found"} and not any(i.checking for i in infos.values()):
        return _cached_page(results, infos)
    if "found" in states:
        status = 200
    elif "fetching" in states:
        status = 202
    elif "failed" in states:
        status = 503
    elif "refused" in states:
        status = 429
    else:
        status = 404
    waiting = bool(states & {"fetching", "failed", "refused"}) or checking
    html = render_template(
        "paper.html",
        results=results,
        infos=infos,
        refresh=_refresh_after(results) if waiting else False,
        watch=_signature(results) if waiting else None,
    )
    resp = Response(html, status=status)
    resp.headers["Cache-Control"] = "no-store"
    if status in (429, 503):
        resp.headers["Retry-After"] = str(_refresh_after(results))
    return resp


def _signature(results) -> str:
    """What a waiting page shows, in short: it reloads when this changes."""
    # A found paper's version counts too: a page checking for a newer one reloads when it lands.
    return ",".join(
        f"{r.state}:{r.code or ''}{f':v{r.paper.version}' if r.state == 'found' else ''}"
        for r in results
    )


def _refresh_after(results) -> int:
    """Seconds before a page without scripts reloads itself: soon while fetching, backing
    off while arXiv fails (until the announced retry, at least 10 s, at most 5 minutes)."""
    now = time.time()
    waits = []
    for r in results:
        if r.state == "fetching":
            waits.append(min(30.0, max(2.0, (r.eta or 0) + 1)))
        elif r.state == "failed":
            retry = (r.retry_at - now + 2) if r.retry_at else 30.0
            waits.append(min(300.0, max(10.0, retry)))
        elif r.state == "refused":
            waits.append(60.0)
    return int(min(waits, default=5.0))


def _poll(refs: list[PaperRef], seen: str):
    """Long-poll for a waiting page: answers once its papers' states differ from ``seen``.

    At most POLL_SLOTS polls are held open per process, so polls cannot take every
    thread; the others answer at once and the page asks again a little later.
    """
    if not _poll_slots.acquire(blocking=False):
        return _poll_answer(_signature(classify(refs)) != seen)
    try:
        return _hold_poll(refs, seen)
    finally:
        _poll_slots.release()


def _poll_answer(changed: bool):
    resp = jsonify(changed=changed)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _hold_poll(refs: list[PaperRef], seen: str):
    watch = watch_for(services().redis)
    deadline = time.monotonic() + POLL_HOLD
    while True:
        since = watch.generation()
        now = _signature(classify(refs))
        left = deadline - time.monotonic()
        if now != seen or left <= 0:
            return _poll_answer(now != seen)
        watch.wait(since, left)


def _cached_page(results, infos) -> Response:
    # The page holds absolute links built from the request's host: key on it too.
    digest = hashlib.blake2b(
        f"{PAGE_VERSION}|{services().render_digest}|{request.url_root}".encode(),
        digest_size=16,
    )
    for r in results:
        digest.update(f"|{r.ref.id}|{r.ref.version}|".encode())
        digest.update(r.blob)
        digest.update(f"|{infos[r.ref.id].announced}".encode())
    etag = digest.hexdigest()
    if not_modified(etag):  # the micro-cache revalidating its copy: no render needed
        return conditional_response(b"", etag)
    pages = services().pages
    path = request.url_root + request.path
    page = pages.get(path)
    body = page.body if page is not None and page.etag == etag else None
    if body is None:
        body = render_template("paper.html", results=results, infos=infos, refresh=False).encode()
    pages.put(path, etag, body)
    return conditional_response(body, etag)


def listing_or_404(spec: str):
    """Not paper ids: a category listing (``cs.AI``, ``cs.AI/feed``…) or a clear 404."""
    from server import listings

    return listings.listing_page(spec)


@bp.get("/go")
def go():
    """Any text or URL naming papers or a listing: 302 to its page here, or a helpful 404."""
    text = request.args.get("url", "") or request.args.get("q", "")
    target = _target(text) or _target(_own_path(text))
    if target is None and text.strip() and "://" not in text:
        # Free text (not a link): the box at the top of every page searches what it cannot open.
        return redirect("/search?" + urlencode({"q": text.strip()[:500]}), 302)
    if target is None:
        return not_found(_nothing_message(text))
    return redirect(target, 302)


def _target(text: str) -> str | None:
    """The mirror's path for the papers, else the listing, that ``text`` names."""
    if not text:
        return None
    refs = resolve(text)[:MAX_IDS]
    if refs:
        return mirror_path(refs)
    listing = listing_target(text)
    return listing.path if listing else None


def _own_path(text: str) -> str:
    """The path of a URL on this mirror's own host (``…/abs/2104.12255`` with arxiv.org
    swapped for the mirror), else ""."""
    host = request.host.lower()
    for scheme in ("http://", "https://", ""):
        prefix = scheme + host
        if text.strip().lower().startswith(prefix + "/"):
            return text.strip()[len(prefix) :]
    return ""


def _nothing_message(text: str) -> str:
    if not text.strip():
        return "Paste a paper link or an arXiv identifier to open it here."
    return "No arXiv paper found in what you gave."


@prefix_bp.route("/<path:target>")
def prefix(target: str):
    """The mirror's address typed in front of a paper URL: /https://arxiv.org/abs/…"""
    if request.method not in ("GET", "HEAD"):
        abort(405)
    if request.path.startswith("/api/"):
        abort(404)  # an unknown API route: JSON, not the people's page
    # full_path keeps the query string, which legacy forms (/abs?id=…) need.
    text = request.full_path.lstrip("/").removesuffix("?")
    # The address typed in front (/https://arxiv.org/abs/…), else arXiv's own path on the
    # mirror's host (/abs/…, /pdf/…, /list/cs.AI/new), as alphaXiv allows.
    target = _target(text) or _target("/" + text)
    if target is None:
        return not_found("No arXiv paper found in this address.")
    return redirect(target, 302)
