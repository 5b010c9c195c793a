"""The search API's JSON: one paper of the results, and the answer's bytes and ETag.

A search is a new answer nearly every time, so what each one costs counts:
records are read as the codec's rows (no :class:`Paper` built), encoded by
orjson, and the ETag is a blake2b of the bytes (Flask's encoder and SHA-1 ETag
were a fifth of a search's own time).
"""

from __future__ import annotations

import hashlib

import orjson
from flask import Response, current_app, request

from papermirror import codec
from server.lookup import _decode


def paper(blob: bytes, score: float | None, terms: frozenset[str]) -> dict:
    """One result of ``/api/search`` from its stored record: the snippet is the abstract's."""
    from papermirror.search.highlight import snippet

    try:
        row = orjson.loads(codec.decompress(blob))
    except orjson.JSONDecodeError:  # lone surrogates, which only Python's json reads
        p = _decode(blob)
        return _of_paper(p, score, snippet(p.abstract, terms))
    # The codec's row: see codec.serialize (tests hold this equal to the Paper's form).
    pid, version, title, authors, abstract, categories, published = row[:7]
    return {
        "id": pid,
        "version": version,
        "title": title,
        "authors": [a if isinstance(a, str) else a[0] for a in authors],
        "categories": categories,
        "published": published,
        "score": score,
        "snippet": snippet(abstract, terms),
    }


def of_result(r) -> dict:
    """A shown result (:class:`server.search.Result`) in the API's form."""
    return _of_paper(r.paper, r.score, str(r.snippet))


def _of_paper(p, score: float | None, snippet: str) -> dict:
    return {
        "id": p.id,
        "version": p.version,
        "title": p.title,
        "authors": [a.name for a in p.authors],
        "categories": list(p.categories),
        "published": p.published,
        "score": score,
        "snippet": snippet,
    }


def answer(payload: dict) -> Response:
    """``payload`` as JSON, with an ETag over its bytes and 304 when the client has them."""
    try:
        body = orjson.dumps(payload) + b"\n"
    except TypeError:  # orjson refuses lone surrogates, which a stored text could hold
        body = (current_app.json.dumps(payload) + "\n").encode()
    resp = Response(body, mimetype="application/json")
    resp.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest())
    resp.headers["Cache-Control"] = "no-cache"  # store, but revalidate: the ETag makes a 304
    return resp.make_conditional(request)
