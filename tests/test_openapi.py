"""The OpenAPI document: valid 3.1, and in step with the app's /api routes, both ways."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from server import create_app, openapi
from tests.stack import stack_settings

IMPLICIT = {"HEAD", "OPTIONS"}  # Flask adds these to every route


@pytest.fixture(scope="module")
def app():
    return create_app(stack_settings("redis://127.0.0.1:1/0", "http://127.0.0.1:9/api"))


def api_routes(app) -> set[tuple[str, str]]:
    return {
        (openapi.rule_to_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - IMPLICIT
    }


def test_the_document_is_valid_openapi_3_1():
    doc = openapi.document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_api_route_has_an_operation(app):
    documented = {
        (path, method) for path, ops in openapi.document()["paths"].items() for method in ops
    }
    missing = api_routes(app) - documented
    assert not missing, f"/api routes missing from server/openapi.py OPERATIONS: {sorted(missing)}"


def test_every_operation_names_a_real_route(app):
    documented = {
        (path, method) for path, ops in openapi.document()["paths"].items() for method in ops
    }
    assert documented - api_routes(app) == set()


def test_a_new_route_without_an_operation_fails_the_check():
    app = create_app(stack_settings("redis://127.0.0.1:1/0", "http://127.0.0.1:9/api"))
    app.add_url_rule("/api/papers/<path:paper_id>/faq", "faq", lambda paper_id: "")
    documented = {(p, m) for p, ops in openapi.document()["paths"].items() for m in ops}
    assert ("/api/papers/{paper_id}/faq", "get") in api_routes(app) - documented


@pytest.mark.parametrize(
    ("rule", "path"),
    [("/api/papers/<path:paper_id>", "/api/papers/{paper_id}"), ("/api/resolve", "/api/resolve"),
     ("/api/x/<int:n>/<name>", "/api/x/{n}/{name}")],
)  # fmt: skip
def test_rule_to_path(rule, path):
    assert openapi.rule_to_path(rule) == path


def test_served_and_rendered_without_a_cdn(app):
    client = app.test_client()
    served = client.get("/api/openapi.json")
    assert served.status_code == 200 and served.get_json() == openapi.document()
    page = client.get("/api/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for path in openapi.document()["paths"]:
        assert path in text
    # Only the mirror's own scripts (theme, math), never a CDN's.
    assert all(src.startswith("/") for src in re.findall(r'<script src="([^"]*)"', text))
    assert "cdn" not in text.lower()
