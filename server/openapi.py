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

from server import faq_openapi, search_openapi
from server.openapi_parts import NULLABLE_STRING, json_response

bp = Blueprint("openapi", __name__, url_prefix="/api")

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
            "primary_category": NULLABLE_STRING,
            "published": NULLABLE_STRING,
            "updated": NULLABLE_STRING,
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["version"],
                    "properties": {
                        "version": {"type": "integer"},
                        "date": NULLABLE_STRING,
                        "size": NULLABLE_STRING,
                    },
                },
            },
            "comment": NULLABLE_STRING,
            "journal_ref": NULLABLE_STRING,
            "doi": NULLABLE_STRING,
            "license": NULLABLE_STRING,
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


BAD_REQUEST = json_response("Error", "the request holds bytes that are not valid UTF-8")
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
            "200": json_response("Resolved", "the papers found, in order, and their page here"),
            "400": BAD_REQUEST,
            "404": json_response("Error", "no arXiv paper in the text"),
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
            "200": json_response("Paper", "the stored record"),
            "202": json_response("Fetching", "being fetched from arXiv: ask again shortly"),
            "400": BAD_REQUEST,
            "404": json_response("Error", "not an arXiv id, or arXiv has no such paper"),
            "503": json_response("Error", "arXiv could not be reached; retry later", RETRY_AFTER),
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
            "200": json_response("Listing", "the day's papers, by section"),
            "400": BAD_REQUEST,
            "404": json_response("Error", "not a spec, not a date, or no listing for that day"),
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


# The search and FAQ routes describe themselves beside their code.
for _part in (search_openapi, faq_openapi):
    SCHEMAS.update(_part.SCHEMAS)
    OPERATIONS.update(_part.OPERATIONS)


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
def openapijson_response():
    """The OpenAPI document."""
    return jsonify(document())


@bp.get("/docs")
def docs():
    """The API reference, rendered on the server from the same document (no CDN)."""
    doc = document()
    return render_template("api_docs.html", doc=doc, schemas=doc["components"]["schemas"])
