"""The search routes' part of the OpenAPI document (merged into :mod:`server.openapi`)."""

from __future__ import annotations

from server.openapi_parts import NULLABLE_STRING, json_response, query_param

BAD = json_response("Error", "a malformed or empty query, or bad filters, in plain words")
NOT_READY = json_response("Error", "the search index is being built; retry shortly")

SCHEMAS: dict[str, dict] = {
    "SearchHit": {
        "type": "object",
        "required": ["id", "version", "title", "authors", "categories", "published", "score"],
        "properties": {
            "id": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "title": {"type": "string"},
            "authors": {"type": "array", "items": {"type": "string"}},
            "categories": {"type": "array", "items": {"type": "string"}},
            "published": NULLABLE_STRING,
            "score": {"type": ["number", "null"], "description": "BM25; null when by date"},
            "snippet": {
                "type": ["string", "null"],
                "description": "HTML: the abstract's text around the first match, escaped, "
                "matched words in <mark>",
            },
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["query", "total", "page", "papers"],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "papers": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
        },
    },
    "Related": {
        "type": "object",
        "required": ["id", "papers"],
        "properties": {
            "id": {"type": "string"},
            "papers": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
        },
    },
    "SearchStatus": {
        "type": "object",
        "required": ["status", "papers", "position"],
        "properties": {
            "status": {"enum": ["ok", "catching up", "building"]},
            "papers": {"type": "integer", "minimum": 0},
            "position": NULLABLE_STRING,
            "writes_behind": {"type": ["integer", "string"]},
        },
    },
}

OPERATIONS: dict[tuple[str, str], dict] = {
    ("/api/search", "get"): {
        "summary": "Full-text search over every paper the mirror holds",
        "description": 'Words (all required), `"exact phrase"`, `-excluded`, `OR`, and the '
        "fields `ti:` `au:` `abs:` `cat:` `id:`; authors match without accents and in "
        "either order. 25 papers a page; results stop at 2,000.",
        "parameters": [
            query_param("q", "the query", examples=['au:"Hinton, G" "deep learning" -survey']),
            query_param("cat", "a category spec: cs.AI+cs.LG-cs.CV"),
            query_param("from", "first day of publication, YYYY-MM-DD"),
            query_param("until", "last day of publication, YYYY-MM-DD"),
            query_param("sort", "relevance (default) or date (newest first)"),
            query_param("page", "page number, from 1"),
        ],
        "responses": {
            "200": json_response("SearchResults", "one page of results"),
            "400": BAD,
            "503": NOT_READY,
        },
    },
    ("/api/search/status", "get"): {
        "summary": "This host's search index: papers held and writes not indexed yet",
        "responses": {
            "200": json_response("SearchStatus", "the index answers"),
            "400": json_response("Error", "the request holds bytes that are not valid UTF-8"),
            "503": json_response("SearchStatus", "the index is being built"),
        },
    },
    ("/api/papers/{paper_id}/related", "get"): {
        "summary": "About 8 papers like this one, by title and abstract",
        "parameters": [
            {
                "name": "paper_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "an arXiv id the mirror holds",
                "examples": {"new-style": {"value": "2104.12255"}},
            },
            query_param("same_category", "1 (default): only its primary category; 0: any"),
        ],
        "responses": {
            "200": json_response("Related", "the related papers, best first"),
            "400": json_response("Error", "the request holds bytes that are not valid UTF-8"),
            "404": json_response("Error", "not an arXiv id, or not held by the mirror"),
            "503": NOT_READY,
        },
    },
}
