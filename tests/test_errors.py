"""Errors never leak: plain reasons for readers, no echoed input, nosniff, a guard for hosts."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

from papermirror import keys
from papermirror.reasons import feed_status, plain_reason
from papermirror.store import Store
from server import create_app
from server.errors import Guard, valid_host
from tests.stack import stack_settings

# What a requests error looks like in a stored fetch outcome: arXiv's internal URL,
# and for batched paper fetches, ids that other readers asked for.
LEAKY = (
    "GET https://rss.arxiv.org/rss/cs.AI+cs.CL failed after 4 tries: ConnectionError: "
    "HTTPSConnectionPool(host='rss.arxiv.org', port=443): Max retries exceeded with url: "
    "/api/query?id_list=2101.00001,2101.00002,2101.00003 (Caused by NewConnectionError("
    "'<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new "
    "connection: [Errno 111] Connection refused'))"
)


@pytest.fixture
def client(redis_url):
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0))
    return app.test_client()


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("", True),
        ("localhost", True),
        ("localhost:8000", True),
        ("127.0.0.1:8000", True),
        ("[::1]:8000", True),
        ("[::1]", True),
        ("mirror.example.org", True),
        ("papermirror_web_1:8000", True),
        ("bücher.example", True),
        ("example.org.", True),
        ("a" * 63 + ".example", True),
        ("a" * 64 + ".example", False),
        ("a..b", False),
        ("xn--a", False),
        ("xn--", False),
        ("[::1", False),
        ("[zz]", False),
        ("host:99999", False),
        ("host:port", False),
        ("a b", False),
        ("evil.example/x", False),
        ("<b>", False),
        ("user@host", False),
    ],
)
def test_valid_host_table(host, ok):
    assert valid_host(host) is ok


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (LEAKY, "arXiv did not answer"),
        ("GET https://x failed: ReadTimeout: read timed out", "arXiv did not answer in time"),
        ("GET https://x failed after 4 tries: HTTP 503", "arXiv answered with a server error"),
        ("GET https://x: HTTP 429, arXiv asked to retry after 300s", "arXiv is rate-limiting us"),
        ("GET https://x: HTTP 404", "arXiv refused the request"),
        ("'cs.XX' is not an arXiv category or archive", "not an arXiv category"),
        ("Feed error for query: bad", "arXiv has no feed for it"),
        ("something nobody foresaw", "the fetch failed"),
        (None, ""),
    ],
)  # fmt: skip
def test_plain_reason_table(error, reason):
    assert plain_reason(error) == reason


def test_feed_status_says_will_retry():
    said = feed_status({"status": "error", "error": LEAKY, "retry": True})
    assert said == "arXiv did not answer; will retry"
    assert feed_status(None) == "never fetched"
    assert feed_status({"status": "stale", "attempt": 2}) == "feed not updated yet (try 2)"


def test_home_status_table_shows_a_plain_reason_never_the_exception(client, redis_client):
    outcome = {
        "term": "cs.AI",
        "status": "error",
        "at": "2026-01-05T05:30:00Z",
        "error": LEAKY,
        "retry": True,
        "attempt": 1,
        "counts": {},
    }
    redis_client.hset(keys.FEED_STATUS, "cs.AI", json.dumps(outcome))
    page = client.get("/").get_data(as_text=True)
    assert "arXiv did not answer; will retry" in page
    for secret in ("rss.arxiv.org", "2101.00002", "HTTPSConnectionPool", "Errno", "0x7f"):
        assert secret not in page


def test_api_failed_fetch_names_no_detail(client, redis_client):
    Store(redis_client).set_fetch_error(["2101.00001"], LEAKY, 60)
    resp = client.get("/api/papers/2101.00001")
    assert resp.status_code == 503
    body = resp.get_data(as_text=True)
    assert "arXiv could not be reached" in body
    for secret in ("rss.arxiv.org", "2101.00002", "Connection"):
        assert secret not in body


@pytest.mark.parametrize(
    "path",
    [
        "/api/papers/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/api/listings/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/api/listings/cs.AI?date=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/api/resolve?url=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/api/nope/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ],
)
def test_json_errors_never_echo_the_input(client, path):
    resp = client.get(path)
    assert 400 <= resp.status_code < 500 and resp.is_json
    text = resp.get_data(as_text=True)
    assert "script" not in text and "alert" not in text


@pytest.mark.parametrize(
    "path",
    ["/", "/arxiv/cs.AI", "/api/resolve?url=2101.00001", "/healthz", "/healthz/live", "/nope",
     "/static/style.css", "/go?url=2101.00001", "/arxiv/%FF"],
)  # fmt: skip
def test_nosniff_on_every_response(client, path):
    assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"


def _call(app, host: str = "localhost") -> Response:
    environ = EnvironBuilder("/").get_environ()
    environ["HTTP_HOST"] = host
    return Response(*run_wsgi_app(app, environ, buffered=True))


def test_guard_answers_what_escapes_flask_with_a_plain_500():
    def broken(environ, start_response):
        raise RuntimeError("secret internals")

    resp = _call(Guard(broken))
    assert resp.status_code == 500 and resp.mimetype == "text/plain"
    assert b"secret" not in resp.data
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_guard_refuses_a_bad_host_before_the_app_sees_it():
    seen = []

    def app(environ, start_response):
        seen.append(environ)
        start_response("200 OK", [])
        return [b"ok"]

    assert _call(Guard(app), "a..b").status_code == 400
    assert seen == []
    assert _call(Guard(app), "localhost:1").status_code == 200


def test_home_says_when_the_daily_job_retries(client, redis_client):
    from datetime import UTC, datetime, timedelta

    from rq import Queue

    outcome = {"term": "cs.AI", "status": "error", "at": "2026-01-05T05:30:00Z",
               "error": LEAKY, "retry": True, "attempt": 1, "counts": {}}  # fmt: skip
    redis_client.hset(keys.FEED_STATUS, "cs.AI", json.dumps(outcome))
    job = Queue(keys.FETCH_QUEUE, connection=redis_client).enqueue_in(
        timedelta(minutes=10),
        "worker.feeds.daily_fetch",
        kwargs={"categories": ["cs.AI"], "expect": "2026-01-05", "attempt": 2},
    )
    at = Queue(keys.FETCH_QUEUE, connection=redis_client).scheduled_job_registry
    when = at.get_scheduled_time(job.id).astimezone(UTC)
    assert when > datetime.now(UTC)
    page = client.get("/").get_data(as_text=True)
    assert f"arXiv did not answer; retrying at {when:%H:%M} UTC" in page
    assert "rss.arxiv.org" not in page
