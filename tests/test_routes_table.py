"""Every case of the URL table, through the server's routes: /api/resolve and /go."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papermirror.ids import mirror_path, parse_id
from server import create_app
from tests.conftest import load_url_cases
from tests.stack import stack_settings

CASES = load_url_cases()


@pytest.fixture(scope="module")
def client(redis_server):
    # fetch_wait=0: a fuzzed id that looks real must not make the test wait for a worker.
    app = create_app(stack_settings(redis_server.url, "http://127.0.0.1:9/api", fetch_wait=0))
    return app.test_client()


@pytest.mark.parametrize("case", CASES, ids=[c["input"][:80] for c in CASES])
def test_resolve_api_and_go_follow_the_table(client, case):
    expected = [parse_id(e) for e in case["expect"]]
    resolved = client.get("/api/resolve", query_string={"url": case["input"]})
    go = client.get("/go", query_string={"url": case["input"]})
    if not expected:
        if case.get("listing"):
            assert resolved.status_code == 200
            assert resolved.get_json()["papers"] == []
            assert resolved.get_json()["path"] == case["listing"]
            assert (go.status_code, go.headers["Location"]) == (302, case["listing"])
            return
        assert resolved.status_code == 404 and "error" in resolved.get_json()
        if case["input"].strip() and "://" not in case["input"]:  # free text: a search
            assert go.status_code == 302 and go.headers["Location"].startswith("/search?q=")
        else:
            assert go.status_code == 404
        return
    assert resolved.status_code == 200
    body = resolved.get_json()
    assert body["papers"] == [{"id": r.id, "version": r.version} for r in expected]
    assert body["path"] == mirror_path(expected)
    assert (go.status_code, go.headers["Location"]) == (302, mirror_path(expected))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.sampled_from([c["input"] for c in CASES])))
def test_no_route_errors_or_leaves_the_mirror(client, text):
    for resp in (
        client.get("/go", query_string={"url": text}),
        client.get("/api/resolve", query_string={"url": text}),
        client.get("/" + text.lstrip("/")),
        client.get("/arxiv/" + text.lstrip("/")),
        client.get("/api/papers/" + text.lstrip("/")),
    ):
        assert resp.status_code < 500 or resp.status_code == 503, resp.status_code
        assert b"Traceback" not in resp.data
        if 300 <= resp.status_code < 400:
            location = resp.headers["Location"]
            assert location.startswith("/") and not location.startswith("//"), location
