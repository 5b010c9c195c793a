"""The FAQ routes' part of the OpenAPI document (merged into :mod:`server.openapi`)."""

from __future__ import annotations

from server.openapi_parts import json_response as _json


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


SCHEMAS: dict[str, dict] = {
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
}  # fmt: skip

_FAQ_ERRORS = {
    "400": _json("Error", "a language this mirror does not offer, or a bad version"),
    "503": _json("Error", "no model is configured, or the generation failed: the plain reason"),
}

OPERATIONS: dict[tuple[str, str], dict] = {
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
