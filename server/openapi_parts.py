"""Building blocks of the OpenAPI document, shared by each area's part of it."""

from __future__ import annotations

NULLABLE_STRING = {"type": ["string", "null"]}


def json_response(schema: str, description: str, headers: dict | None = None) -> dict:
    """A response whose JSON body is the named component schema."""
    out = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        out["headers"] = headers
    return out


def query_param(name: str, description: str, **schema) -> dict:
    """An optional query parameter (a string unless ``schema`` says otherwise)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string", **schema},
        "description": description,
    }
