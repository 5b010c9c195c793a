"""The JSON API's contract: OpenAPI 3.1 at ``/api/openapi.json``, and a reference at ``/api/docs``.

Written by hand, as data, and tested against the code both ways:
``tests/test_openapi.py`` fails when an ``/api`` route of the app's url_map
has no operation here (or an operation names no route), and
``tests/test_schemathesis.py`` sends generated requests to every operation of
a live mirror and checks each answer against its schema.

To add an operation, add one entry to :data:`OPERATIONS` (and its schema to
:data:`SCHEMAS` if it returns a new shape). Path parameters use the route's
own name (``/api/papers/<path:paper_id>`` is ``/api/papers/{paper_id}``).
"""

from __future__ import annotations

import copy
import re
from functools import cache

from flask import Blueprint, jsonify, render_template

from server import search_openapi

bp = Blueprint("openapi", __name__, url_prefix="/api")

_NULLABLE_STRING = {"type": ["string", "null"]}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "what went wrong, in words"}},
    },
    "Ref": {
        "type": "object",
        "required": ["id", "version"],
        "properties": {
            "id": {"type": "string", "examples": ["2104.12255", "hep-th/9901001"]},
            "version": {"type": ["integer", "null"], "minimum": 1},
        },
    },
    "Resolved": {
        "type": "object",
        "required": ["papers", "path"],
        "properties": {
            "papers": {"type": "array", "items": {"$ref": "#/components/schemas/Ref"}},
            "path": {"type": "string", "description": "the mirror's page for these papers"},
        },
    },
    "Paper": {
        "type": "object",
        "required": ["id", "version", "title", "authors", "abstract", "categories"],
        "properties": {
            "id": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "title": {"type": "string"},
            "authors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "affiliations"],
                    "properties": {
                        "name": {"type": "string"},
                        "affiliations": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "abstract": {"type": "string"},
            "categories": {"type": "array", "items": {"type": "string"}},
            "primary_category": _NULLABLE_STRING,
            "published": _NULLABLE_STRING,
            "updated": _NULLABLE_STRING,
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["version"],
                    "properties": {
                        "version": {"type": "integer"},
                        "date": _NULLABLE_STRING,
                        "size": _NULLABLE_STRING,
                    },
                },
            },
            "comment": _NULLABLE_STRING,
            "journal_ref": _NULLABLE_STRING,
            "doi": _NULLABLE_STRING,
            "license": _NULLABLE_STRING,
            "source": {"type": "string"},
        },
    },
    "Fetching": {
        "type": "object",
        "required": ["status", "id"],
        "properties": {"status": {"const": "fetching"}, "id": {"type": "string"}},
    },
    "Listing": {
        "type": "object",
        "required": ["date", "spec", "previous", "next", "counts", "papers"],
        "properties": {
            "date": {"type": "string", "format": "date"},
            "spec": {"type": "string", "description": "the canonical spec"},
            "previous": {"type": ["string", "null"], "description": "the listed day before"},
            "next": {"type": ["string", "null"], "description": "the listed day after"},
            "counts": {
                "type": "object",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "papers": {
                "type": "array",
                "items": {
                    "allOf": [{"$ref": "#/components/schemas/Paper"}],
                    "required": ["announce_type"],
                    "properties": {"announce_type": {"type": "string"}},
                },
            },
        },
    },
}


def _json(schema: str, description: str, headers: dict | None = None) -> dict:
    out = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        out["headers"] = headers
    return out


BAD_REQUEST = _json("Error", "the request holds bytes that are not valid UTF-8")
RETRY_AFTER = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}}

OPERATIONS: dict[tuple[str, str], dict] = {
    ("/api/resolve", "get"): {
        "summary": "Find the arXiv papers named in any text or URL",
        "description": "Links (abs, PDF, HTML, mirrors), old- and new-style ids, "
        "`arXiv:` citations and arXiv DOIs, in any order; never fetches the URL.",
        "parameters": [
            {
                "name": "url",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "the text or URL",
                "examples": {"abs": {"value": "https://arxiv.org/abs/1706.03762v5"}},
            }
        ],
        "responses": {
            "200": _json("Resolved", "the papers found, in order, and their page here"),
            "400": BAD_REQUEST,
            "404": _json("Error", "no arXiv paper in the text"),
        },
    },
    ("/api/papers/{paper_id}", "get"): {
        "summary": "A paper's record",
        "description": "From the store; a paper not stored yet is fetched from arXiv "
        "(batched with other first visits), and the answer is 202 until it arrives.",
        "parameters": [
            {
                "name": "paper_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "an arXiv id, with or without version (`hep-th/9901001v2`)",
                "examples": {
                    "new-style": {"value": "2104.12255"},
                    "old-style": {"value": "hep-ex/0406020v1"},
                },
            }
        ],
        "responses": {
            "200": _json("Paper", "the stored record"),
            "202": _json("Fetching", "being fetched from arXiv: ask again shortly"),
            "400": BAD_REQUEST,
            "404": _json("Error", "not an arXiv id, or arXiv has no such paper"),
            "503": _json("Error", "arXiv could not be reached; retry later", RETRY_AFTER),
        },
    },
    ("/api/listings/{text}", "get"): {
        "summary": "A category listing of one announcement day",
        "description": "A spec is a category (`cs.AI`), an archive (`cs`), a union "
        "(`cs.AI,cs.CL`) with exclusions (`-cs.CV`). Without `date`, the latest day.",
        "parameters": [
            {
                "name": "text",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "a category spec",
                "examples": {"union": {"value": "cs.AI,cs.CL-cs.CV"}},
            },
            {
                "name": "date",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "YYYY-MM-DD",
            },
        ],
        "responses": {
            "200": _json("Listing", "the day's papers, by section"),
            "400": BAD_REQUEST,
            "404": _json("Error", "not a spec, not a date, or no listing for that day"),
        },
    },
    ("/api/openapi.json", "get"): {
        "summary": "This document",
        "responses": {
            "200": {
                "description": "OpenAPI 3.1",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    },
    ("/api/docs", "get"): {
        "summary": "This document as a readable page",
        "responses": {
            "200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
        },
    },
}


# The search routes describe themselves beside their code.
SCHEMAS.update(search_openapi.SCHEMAS)
OPERATIONS.update(search_openapi.OPERATIONS)


@cache
def document() -> dict:
    """The OpenAPI 3.1 document."""
    paths: dict[str, dict] = {}
    for (path, method), operation in OPERATIONS.items():
        op = copy.deepcopy(operation)
        op.setdefault("operationId", _operation_id(path, method))
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Paper Mirror API",
            "version": "1",
            "description": "Read arXiv paper records and category listings from this mirror. "
            "Metadata from arXiv (CC0). Thank you to arXiv for use of its open access "
            "interoperability.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths,
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }


def _operation_id(path: str, method: str) -> str:
    words = re.findall(r"[a-z]+", path.removeprefix("/api/").replace("{", "by_"))
    return method + "_" + "_".join(words)


def rule_to_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: ``/api/x/<path:name>`` -> ``/api/x/{name}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI document."""
    return jsonify(document())


@bp.get("/docs")
def docs():
    """The API reference, rendered on the server from the same document (no CDN)."""
    doc = document()
    return render_template("api_docs.html", doc=doc, schemas=doc["components"]["schemas"])


# --- faq ---
def _faq_parameters(with_regenerate: bool = False) -> list[dict]:
    params = [
        {
            "name": "paper_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": "an arXiv id; a version in it (`2104.12255v2`) picks that version",
        },
        {
            "name": "lang",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "one of PAPERMIRROR_FAQ_LANGUAGE (default: its first)",
        },
        {
            "name": "version",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1},
            "description": "the paper version (default: the latest the mirror holds)",
        },
    ]
    if with_regenerate:
        params.append(
            {
                "name": "regenerate",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["1", "true"]},
                "description": "ask the model again, once a day per FAQ",
            }
        )
    return params


SCHEMAS.update(
    {
        "Faq": {
            "type": "object",
            "required": [
                "id", "version", "language", "model", "source", "generated", "tldr", "answers"
            ],
            "properties": {
                "id": {"type": "string"},
                "version": {"type": "integer", "minimum": 1},
                "language": {"type": "string"},
                "model": {"type": "string"},
                "source": {"enum": ["fulltext", "abstract"], "description": "what the model read"},
                "generated": {"type": "string", "description": "ISO 8601 UTC"},
                "tldr": {"type": "string"},
                "answers": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["question", "answer"],
                        "properties": {
                            "question": {"type": "string"},
                            "answer": {"type": "string", "description": "Markdown, untrusted"},
                        },
                    },
                },
            },
        },
        "FaqQueued": {
            "type": "object",
            "required": ["status", "stream"],
            "properties": {
                "status": {"enum": ["queued", "generating"]},
                "stream": {"type": "string", "description": "the FAQ's event stream here"},
            },
        },
        "FaqMissing": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "older": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "older versions that have a FAQ",
                },
            },
        },
    }
)  # fmt: skip

_FAQ_ERRORS = {
    "400": _json("Error", "a language this mirror does not offer, or a bad version"),
    "503": _json("Error", "no model is configured, or the generation failed: the plain reason"),
}

OPERATIONS.update(
    {
        ("/api/papers/{paper_id}/faq", "post"): {
            "summary": "Make a paper version's FAQ with the configured model",
            "description": "Queues the generation (idempotent: one at a time per FAQ, "
            "however many clients ask) or returns the FAQ when it is made already. "
            "Cross-site requests (Origin, Sec-Fetch-Site) are refused.",
            "parameters": _faq_parameters(with_regenerate=True),
            "responses": {
                "200": _json("Faq", "the FAQ, made already"),
                "202": _json("FaqQueued", "queued or being made: follow `stream`"),
                "403": _json("Error", "a cross-site request"),
                "404": _json("Error", "not an id, not in the mirror yet, or no such version"),
                "429": _json("Error", "regenerated less than a day ago"),
                **_FAQ_ERRORS,
            },
        },
        ("/api/papers/{paper_id}/faq", "get"): {
            "summary": "A paper version's FAQ: six answers and a TL;DR",
            "description": "Never starts a generation.",
            "parameters": _faq_parameters(),
            "responses": {
                "200": _json("Faq", "the FAQ"),
                "202": _json("FaqQueued", "being made: follow `stream`"),
                "404": _json("FaqMissing", "none made yet (or not an id, or not in the mirror)"),
                **_FAQ_ERRORS,
            },
        },
        ("/api/papers/{paper_id}/faq/stream", "get"): {
            "summary": "The FAQ's answers as they are written",
            "description": "Server-sent events: `meta`, `answer` (`q`, `question`, sanitised "
            "`html`, or `text` for the TL;DR, `done`), `retry`, `end` (`status`: done, failed, "
            "none). With `poll=1`, the same as one JSON object.",
            "parameters": [
                *_faq_parameters(),
                {
                    "name": "poll",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "answer once, as JSON, instead of streaming",
                },
            ],
            "responses": {
                "200": {
                    "description": "the event stream (or, with poll, a JSON snapshot)",
                    "content": {
                        "text/event-stream": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"type": "object"}},
                    },
                },
                "404": _json("Error", "not an id, not in the mirror, or no such version"),
                "429": _json("Error", "too many open streams here: poll instead"),
                **_FAQ_ERRORS,
            },
        },
    }
)
