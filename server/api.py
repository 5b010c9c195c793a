"""The JSON API: resolve text to papers, and read a paper's record."""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, jsonify, request

from papermirror.ids import mirror_path, parse_id, resolve
from papermirror.listing_urls import listing_target
from papermirror.records import to_dict
from server.lookup import lookup
from server.pagecache import conditional_response, not_modified

bp = Blueprint("api", __name__, url_prefix="/api")


def allow_any_origin(response):
    """Reads of the JSON API, public data without cookies, may come from any page: the
    browser extension, a reader's own script. Registered on the whole app, so every
    ``/api/`` route has it; writes (the FAQ's POST) stay same-origin."""
    if request.method in ("GET", "HEAD") and request.path.startswith("/api/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/resolve")
def resolve_text():
    """``{"papers": [{"id", "version"}], "path"}`` for the text in ``url``, or 404.

    A listing URL (arxiv.org/list/cs.AI/new) gives ``{"papers": [], "listing", "path"}``.
    """
    text = request.args.get("url", "")
    refs = resolve(text)
    if not refs:
        listing = listing_target(text)
        if listing:
            return jsonify(
                papers=[], listing={"spec": listing.spec, "date": listing.day}, path=listing.path
            )
        return jsonify(error="no arXiv paper found in the given text"), 404
    return jsonify(
        papers=[{"id": r.id, "version": r.version} for r in refs],
        path=mirror_path(refs),
    )


@bp.get("/papers/<path:paper_id>")
def paper(paper_id: str):
    """The stored record as JSON; fetched from arXiv on first request."""
    ref = parse_id(paper_id)
    if ref is None:
        return jsonify(error="not an arXiv identifier"), 404
    [result] = lookup([ref])
    if result.state == "found":
        etag = hashlib.blake2b(b"api-paper|1|" + result.blob, digest_size=16).hexdigest()
        if not_modified(etag):
            return conditional_response(b"", etag, "application/json")
        body = (current_app.json.dumps(to_dict(result.paper)) + "\n").encode()
        return conditional_response(body, etag, "application/json")
    if result.state == "missing":
        return jsonify(error=f"arXiv has no paper {ref.id}"), 404
    if result.state == "failed":
        # The fetch error's text names arXiv's URL and other readers' ids: logs and /admin only.
        return (
            jsonify(error="arXiv could not be reached; try again shortly"),
            503,
            {"Retry-After": "30"},
        )
    return jsonify(status="fetching", id=ref.id), 202
