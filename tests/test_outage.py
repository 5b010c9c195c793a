"""While Redis is away, full or loading: a clear 503 with Retry-After, never a 500 or its text.

Real Redis servers throughout: one that is not there (a closed port), and one
whose ``maxmemory`` with ``noeviction`` refuses writes.
"""

from __future__ import annotations

import pytest
import redis

from papermirror import embedded
from server import create_app
from tests.stack import stack_settings

LEAKS = ("Traceback", "ConnectionError", "OutOfMemory", "redis.", "Errno", "OOM")


@pytest.fixture(scope="module")
def dead_client(replay):
    """An app whose Redis is not there: a port nothing listens on."""
    url = f"redis://127.0.0.1:{embedded.free_port()}/0"
    app = create_app(stack_settings(url, replay.api_url, fetch_wait=0.5))
    return app.test_client()


# Each of these needs Redis.
PAGES = [
    "/",
    "/arxiv/2104.12255",
    "/arxiv/cs.AI",
    "/arxiv/2104.12255,1706.03762",
]
APIS = ["/api/papers/2104.12255", "/api/listings/cs.AI"]


def no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, leak


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_storage_unavailable(dead_client, path):
    resp = dead_client.get(path)
    assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
    assert resp.headers["Retry-After"] == "5"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.mimetype == "text/html"
    body = resp.get_data(as_text=True)
    assert "Storage unavailable" in body
    no_leak(body)


@pytest.mark.parametrize("path", APIS)
def test_the_api_answers_json(dead_client, path):
    resp = dead_client.get(path)
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    assert resp.get_json() == {"error": "storage unavailable", "retry_after": 5}
    no_leak(resp.get_data(as_text=True))


def test_what_needs_no_redis_still_works(dead_client):
    assert dead_client.get("/api/resolve?url=2104.12255").status_code == 200
    go = dead_client.get("/go?url=arXiv:2104.12255")
    assert (go.status_code, go.headers["Location"]) == (302, "/arxiv/2104.12255")


def test_healthz_says_down_without_details(dead_client):
    resp = dead_client.get("/healthz")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    assert resp.get_json() == {"status": "down", "redis": "unreachable"}
    assert dead_client.get("/healthz/live").status_code == 200


def test_a_full_redis_refuses_first_visits_with_a_503(tmp_path, replay):
    server = embedded.start(tmp_path / "redis", appendonly=False, maxmemory="2mb")
    try:
        client = redis.Redis.from_url(server.url)
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        filler = b"x" * 10_000
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for n in range(10_000):
                client.set(f"fill:{n}", filler)
        app = create_app(stack_settings(server.url, replay.api_url, fetch_wait=0.2))
        resp = app.test_client().get("/arxiv/2104.12255")  # a first visit: it must write
        assert resp.status_code == 503
        no_leak(resp.get_data(as_text=True))
        # Nothing was evicted to make room.
        assert client.dbsize() == n
    finally:
        server.stop()
