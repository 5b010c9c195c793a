"""Operations against a live `papermirror up`: /metrics after a walk, /admin, hostile Hosts.

One mirror for the module (a web server with 2 workers, so the multiprocess
metrics are really summed across processes), the replay server as arXiv.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from papermirror import embedded
from tests.stack import ROOT, Mirror
from tests.test_up_e2e import open_page

pytestmark = pytest.mark.slow

TOKEN = "live-admin-token"
FOUR = "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml"
FOUR_PATH = "/rss/cs.LG+cs.AI+cs.CL+stat.ML"
CATEGORIES = "cs.LG,cs.AI,cs.CL,stat.ML"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, replay):
    replay.route(FOUR_PATH, FOUR)
    m = Mirror.start(
        tmp_path_factory.mktemp("ops") / "data",
        replay.api_url,
        arxiv_rss_url=replay.url + "/rss/",
        categories=CATEGORIES,
        metrics="on",
        admin_token=TOKEN,
        arxiv_retries=1,
        arxiv_max_backoff=0.5,
        fetch_wait=1,
        workers=1,
        web_workers=2,
    )
    yield m
    assert m.stop() == 0


def scrape(base: str) -> dict[tuple[str, tuple], float]:
    """/metrics parsed by prometheus-client's own parser: (sample name, labels) -> value."""
    resp = requests.get(base + "/metrics", timeout=10)
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Content-Type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples, name: str, **labels) -> float:
    """Sum over every sample of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_metrics_move_as_the_walk_goes(mirror, replay):
    base = mirror.base
    before = scrape(base)
    # Pages: the home page twice, an unknown address, a listing not fetched yet.
    for path in ("/", "/", "/nope-nothing-here"):
        requests.get(base + path, timeout=10)
    # A first visit, then the same page again (page cache).
    assert open_page(base, "/arxiv/hep-ex/0406020v1").status_code == 200
    for _ in range(4):
        assert requests.get(base + "/arxiv/hep-ex/0406020v1", timeout=10).status_code == 200
    # A failed fetch: arXiv answers 503 to every try.
    replay.inject("status", 4, path="/api/query", status=503)
    failed = requests.get(base + "/arxiv/2104.12255", timeout=20)
    assert failed.status_code in (202, 503)
    deadline = time.monotonic() + 30
    while total(scrape(base), "papermirror_arxiv_requests_total", outcome="http_503") < 2:
        assert time.monotonic() < deadline, "the failed fetch was never counted"
        time.sleep(0.5)
    # The daily fetch, through the running workers.
    done = subprocess.run(
        [sys.executable, "-m", "papermirror.cli", "fetch"],
        cwd=ROOT,
        env=mirror_env(mirror),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    after = scrape(base)

    def moved(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    route = "papermirror_http_requests_total"
    assert moved(route, route="/", status="200") == 2
    assert moved(route, route="/<path:target>", status="404") == 1
    assert moved(route, route="/arxiv/<path:spec>", status="200") >= 5
    assert moved("papermirror_http_request_duration_seconds_count", route="/") == 2
    assert moved("papermirror_page_cache_lookups_total", cache="pages", result="hit") >= 1
    assert moved("papermirror_first_visit_ids_total", kind="new") >= 2
    assert moved("papermirror_arxiv_requests_total", endpoint="api", outcome="ok") >= 1
    assert moved("papermirror_arxiv_requests_total", endpoint="api", outcome="http_503") >= 2
    assert moved("papermirror_arxiv_requests_total", endpoint="rss", outcome="ok") == 1
    assert moved("papermirror_arxiv_limiter_wait_seconds_count") >= 4
    assert moved("papermirror_fetch_batch_size_count") >= 2
    for category in ("cs.AI", "cs.CL", "cs.LG", "stat.ML"):
        assert moved("papermirror_feed_fetches_total", category=category, status="ok") == 1
        assert value(after, "papermirror_listing_newest_age_seconds", category=category) > 0
    assert value(after, "papermirror_redis_up") == 1
    assert value(after, "papermirror_rq_workers") == 1
    assert ("papermirror_rq_queue_length", (("queue", "papermirror"),)) in after
    assert ("papermirror_rq_failed_jobs", (("queue", "papermirror"),)) in after
    assert ("papermirror_pending_ids", ()) in after
    # Histograms are cumulative and end at +Inf = count.
    count = total(after, "papermirror_arxiv_limiter_wait_seconds_count")
    assert value(after, "papermirror_arxiv_limiter_wait_seconds_bucket", le="+Inf") == count


def mirror_env(mirror: Mirror) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMIRROR_")}
    env["PAPERMIRROR_DATA_DIR"] = str(mirror.data_dir)
    return env


def test_admin_over_http(mirror):
    assert requests.get(mirror.base + "/admin", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert requests.get(mirror.base + "/admin", headers=wrong, timeout=10).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    page = requests.get(mirror.base + "/admin", headers=right, timeout=10)
    assert page.status_code == 200 and "arXiv limiter" in page.text
    report = requests.get(mirror.base + "/admin/status.json", headers=right, timeout=10).json()
    names = {c["name"] for c in report["scheduler"]["cron"]}
    assert names == {"daily-feeds", "daily-feeds-catch-up", "pending-sweeper"}
    assert all(c["next"] for c in report["scheduler"]["cron"])


def raw_get(base: str, host: str | None, path: str = "/", method: str = "GET") -> tuple[int, bytes]:
    """A raw HTTP/1.1 request, Host header as given (None: no Host at all)."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        lines = [f"{method} {path} HTTP/1.1"]
        if host is not None:
            lines.append(f"Host: {host}")
        lines += ["Connection: close", "", ""]
        sock.sendall("\r\n".join(lines).encode("utf-8", "surrogateescape"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


@pytest.mark.parametrize(
    "host",
    ["a" * 64 + ".example", "a..b", "xn--a", "xn--", "[::1", "host:99999", "\u017f.example",
     "a" * 300, ".", "ex ample"],
)  # fmt: skip
def test_hostile_hosts_through_the_web_server_never_get_a_500(mirror, host):
    for path in ("/", "/arxiv/cs.AI", "/nope", "/go?url=2101.00001"):
        status, data = raw_get(mirror.base, host, path)
        assert status < 500, (host, path, data[:300])
        assert b"Traceback" not in data
        assert b"nosniff" in data.lower() or status == 400


def test_metrics_on_a_separate_listener(tmp_path, replay):
    port = embedded.free_port()
    m = Mirror.start(tmp_path / "data", replay.api_url, metrics=f"127.0.0.1:{port}", workers=1)
    try:
        requests.get(m.base + "/", timeout=10)
        # Not on the web port...
        assert requests.get(m.base + "/metrics", timeout=10).status_code == 404
        # ...but on its own, with the web workers' counts and Redis's gauges.
        other = f"http://127.0.0.1:{port}"
        samples = scrape(other)
        assert total(samples, "papermirror_http_requests_total", route="/") >= 1
        assert value(samples, "papermirror_redis_up") == 1
    finally:
        assert m.stop() == 0


@pytest.mark.parametrize(
    "method", ["FOO", "PROPFIND", "TRACE", "DELETE", "PATCH", "get", "G\u00e9T"]
)
@pytest.mark.parametrize(
    "path",
    ["/", "/arxiv/c%C5%BF", "/api/listings/phys%C4%B1cs", "/arxiv?spec=a%C5%BFtro-ph",
     "/arxiv/%C0%AF", "/api/papers/%ED%A0%80", "/admin", "/api/openapi.json"],
)  # fmt: skip
def test_odd_methods_and_bad_bytes_through_the_web_server(mirror, method, path):
    status, data = raw_get(mirror.base, "localhost", path, method)
    assert status < 500, (method, path, data[:300])
    assert b"Traceback" not in data


@pytest.mark.parametrize(
    "path",
    ["/arxiv/c%C5%BF", "/api/listings/phys%C4%B1cs", "/arxiv?spec=a%C5%BFtro-ph", "/arxiv/%FF"],
)
def test_issue_look_alikes_through_the_web_server(mirror, path):
    status, data = raw_get(mirror.base, "localhost", path)
    assert 400 <= status < 500 and b"nosniff" in data.lower()
