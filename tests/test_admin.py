"""/admin: absent without a token, refuses wrong ones, rate-limits failures, shows the detail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from rq import Queue, SimpleWorker

from papermirror import keys
from papermirror.store import Store
from server import admin, create_app
from tests.stack import ROOT, stack_settings
from tests.test_errors import LEAKY

TOKEN = "correct horse battery staple"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def make_app(redis_url: str, token: str = TOKEN):
    return create_app(
        stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0, admin_token=token)
    )


@pytest.fixture
def client(redis_url):
    return make_app(redis_url).test_client()


def run_burst(redis_client) -> None:
    """Run the fetch queue's jobs in this process, as an RQ worker would, then stop."""
    # RQ's worker installs its own SIGINT and SIGTERM handlers and leaves them: a
    # process forked later in this session (a multiprocessing pool) would then
    # ignore terminate(). Put pytest's back.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        queue = Queue(keys.FETCH_QUEUE, connection=redis_client)
        SimpleWorker([queue], connection=redis_client).work(burst=True)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def failed_job(redis_client) -> str:
    """A real job that really failed, in the fetch queue's failed-job registry."""
    queue = Queue(keys.FETCH_QUEUE, connection=redis_client)
    job = queue.enqueue("json.loads", "not json", description="a job that fails")
    run_burst(redis_client)
    assert job.id in queue.failed_job_registry
    return job.id


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/admin"), ("GET", "/admin/status.json"), ("POST", "/admin/login"),
     ("POST", "/admin/jobs/papermirror/x/retry"), ("GET", "/admin/anything")],
)  # fmt: skip
def test_absent_without_a_token(redis_url, method, path):
    client = make_app(redis_url, token="").test_client()
    resp = client.open(path, method=method, headers=BEARER, data={"token": ""})
    assert resp.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
     {"Authorization": "Bearer"}, {"Authorization": f"Bearer {TOKEN}x"}],
)  # fmt: skip
def test_refuses_missing_or_wrong_tokens(client, headers):
    for path in ("/admin", "/admin/status.json"):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 401
        assert "Bearer" in resp.headers["WWW-Authenticate"]
        assert TOKEN not in resp.get_data(as_text=True)
        assert b"limiter" not in resp.data


def test_bearer_token_opens_the_page_with_full_detail(client, redis_client):
    Store(redis_client).set_fetch_error(["2101.00001", "2101.00002"], LEAKY, 60)
    redis_client.hset(
        keys.FEED_STATUS,
        "cs.AI",
        json.dumps({"term": "cs.AI", "status": "error", "at": "2026-01-05T05:30:00Z",
                    "error": "GET https://rss.arxiv.org/rss/cs.AI: HTTP 503"}),
    )  # fmt: skip
    Store(redis_client).add_pending(["2101.00003"])
    page = client.get("/admin", headers=BEARER)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "HTTPSConnectionPool" in text and "2101.00002" in text  # the detail readers never see
    assert "rss.arxiv.org/rss/cs.AI: HTTP 503" in text
    assert "Pending first visits: 1" in text and "2101.00003" in text
    assert page.headers["Cache-Control"] == "no-store"
    report = client.get("/admin/status.json", headers=BEARER).get_json()
    assert report["pending"]["count"] == 1
    assert report["fetch_errors"][0]["error"] == LEAKY
    assert sorted(report["fetch_errors"][0]["ids"]) == ["2101.00001", "2101.00002"]
    assert {"used_memory_human", "aof_enabled", "rdb_last_bgsave_status"} <= set(report["redis"])


def test_login_form_sets_a_secure_httponly_samesite_cookie(client):
    assert client.post("/admin/login", data={"token": "wrong"}).status_code == 401
    resp = client.post("/admin/login", data={"token": TOKEN})
    assert (resp.status_code, resp.headers["Location"]) == (303, "/admin")
    cookie = resp.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/admin"):
        assert flag in cookie
    assert TOKEN not in cookie and TOKEN.replace(" ", "%20") not in cookie
    # The test client keeps Secure cookies over http; a browser does so on localhost.
    assert client.get("/admin").status_code == 200
    assert (
        client.post("/admin/logout", data={"csrf": admin.csrf_token_for(TOKEN)}).status_code == 303
    )
    assert client.get("/admin").status_code == 401


def test_failed_attempts_are_rate_limited_per_client(client, redis_client):
    for _ in range(admin.MAX_FAILURES):
        assert client.get("/admin", headers={"Authorization": "Bearer nope"}).status_code == 401
    # Now even the right token waits: guessing must not go on.
    limited = client.get("/admin", headers=BEARER)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert client.post("/admin/login", data={"token": TOKEN}).status_code == 429
    assert redis_client.ttl(keys.admin_failures("127.0.0.1")) > 0
    other = client.get("/admin", headers=BEARER, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_retry_and_remove_failed_jobs_are_csrf_safe(client, redis_client):
    queue = Queue(keys.FETCH_QUEUE, connection=redis_client)
    job_id = failed_job(redis_client)
    text = client.get("/admin", headers=BEARER).get_data(as_text=True)
    assert "a job that fails" in text and "JSONDecodeError" in text
    client.post("/admin/login", data={"token": TOKEN})
    retry = f"/admin/jobs/{keys.FETCH_QUEUE}/{job_id}/retry"
    # The cookie alone does not do: another site's form could send it.
    assert client.post(retry).status_code == 403
    assert client.post(retry, data={"csrf": "forged"}).status_code == 403
    assert client.get(retry).status_code in (404, 405)  # a GET changes nothing
    assert job_id in queue.failed_job_registry
    resp = client.post(retry, data={"csrf": admin.csrf_token_for(TOKEN)})
    assert resp.status_code == 303
    assert job_id not in queue.failed_job_registry and job_id in queue.job_ids
    # Fails again, then is removed for good, this time with the Bearer header (no CSRF needed).
    run_burst(redis_client)
    assert job_id in queue.failed_job_registry
    plain = make_app(client.application.config["SETTINGS"].redis_url).test_client()
    resp = plain.post(f"/admin/jobs/{keys.FETCH_QUEUE}/{job_id}/remove", headers=BEARER)
    assert resp.status_code == 303
    assert job_id not in queue.failed_job_registry
    assert not redis_client.exists(f"rq:job:{job_id}")
    missing = plain.post(f"/admin/jobs/{keys.FETCH_QUEUE}/{job_id}/remove", headers=BEARER)
    assert missing.status_code == 404


def test_papermirror_status_prints_the_same_report(redis_url, redis_client):
    Store(redis_client).set_fetch_error(["2101.00001"], LEAKY, 60)
    failed_job(redis_client)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMIRROR_")}
    env["PAPERMIRROR_REDIS_URL"] = redis_url
    run = [sys.executable, "-m", "papermirror.cli", "status"]
    text = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    for part in ("arXiv limiter", "Pending first visits: 0", "Failed jobs: 1",
                 "HTTPSConnectionPool", "Redis:", "Scheduler:", "JSONDecodeError"):  # fmt: skip
        assert part in text.stdout
    data = subprocess.run([*run, "--json"], env=env, cwd=ROOT, capture_output=True, timeout=60)
    report = json.loads(data.stdout)
    assert report["failed_jobs"][0]["description"] == "a job that fails"
    assert report["fetch_errors"][0]["ids"] == ["2101.00001"]
