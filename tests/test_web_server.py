"""The web server (`python -m server.serve`, granian): proxy headers, graceful stop, respawn.

The proxy rules are checked on a real Flask app; the rest on real server
processes over real HTTP, each with its own Redis. Nothing here is timed
tightly: each wait is for a condition, with a generous deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask, request
from prometheus_client.parser import text_string_to_metric_families

from papermirror import embedded, keys
from server.proxies import BehindProxy, trusted_peers
from tests.stack import ROOT, process_tree


@pytest.mark.parametrize(
    "spec, address, trusted",
    [
        ("127.0.0.1,::1", "127.0.0.1", True),
        ("127.0.0.1,::1", "::1", True),
        ("127.0.0.1,::1", "10.0.0.2", False),
        ("127.0.0.1,::1", None, False),
        ("127.0.0.1,::1", "not-an-address", False),
        ("10.0.0.0/8, 172.16.0.0/12", "172.18.0.1", True),
        ("10.0.0.0/8, 172.16.0.0/12", "192.168.1.1", False),
        ("*", "203.0.113.9", True),
        ("", "127.0.0.1", False),
    ],
)
def test_trusted_peers(spec, address, trusted):
    assert trusted_peers(spec)(address) is trusted


def test_a_malformed_trust_list_is_refused_clearly():
    with pytest.raises(ValueError, match="PAPERMIRROR_FORWARDED_ALLOW_IPS='10.0.0.1/99'"):
        trusted_peers("10.0.0.1/99")


def _echo_app(spec: str):
    app = Flask(__name__)

    @app.get("/")
    def echo():
        return {"scheme": request.scheme, "client": request.remote_addr}

    app.wsgi_app = BehindProxy(app.wsgi_app, spec)
    return app.test_client()


@pytest.mark.parametrize(
    "peer, headers, expected",
    [
        # A trusted proxy: its scheme, and the address it appended (the last one).
        ("127.0.0.1", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"},
         {"scheme": "https", "client": "198.51.100.7"}),
        # A client that sends its own X-Forwarded-For through the proxy cannot pose as another.
        ("127.0.0.1", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "6.6.6.6, 198.51.100.7"},
         {"scheme": "https", "client": "198.51.100.7"}),
        # Anyone else's headers are ignored.
        ("203.0.113.9", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"},
         {"scheme": "http", "client": "203.0.113.9"}),
        ("127.0.0.1", {}, {"scheme": "http", "client": "127.0.0.1"}),
    ],
)  # fmt: skip
def test_proxy_headers_only_from_trusted_peers(peer, headers, expected):
    client = _echo_app("127.0.0.1,::1")
    assert client.get("/", headers=headers, environ_base={"REMOTE_ADDR": peer}).json == expected


# --- real processes ---------------------------------------------------------------------


class Web:
    """`python -m server.serve` on a free port, with its own Redis."""

    def __init__(self, tmp: Path, multiproc_dir: Path | None = None, **settings):
        self.redis = embedded.start(tmp / "redis", appendonly=False)
        self.port = embedded.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMIRROR_")}
        env.update({"PAPERMIRROR_REDIS_URL": self.redis.url, "PAPERMIRROR_MATHJAX_URL": ""})
        env.update({f"PAPERMIRROR_{k.upper()}": str(v) for k, v in settings.items()})
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if multiproc_dir:  # as `papermirror up` names one; else the server makes its own
            env["PROMETHEUS_MULTIPROC_DIR"] = str(multiproc_dir)
        self.log = tmp / "web.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.serve", "--bind", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.answers, 60, self)

    def answers(self) -> bool:
        try:
            return requests.get(self.base + "/healthz/live", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def workers(self) -> list[int]:
        return [pid for pid, _ in process_tree(self.process.pid)[1:]]

    def stop(self) -> None:
        try:  # the whole session: the main process and any worker left
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.redis.stop()

    def __str__(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def wait_for(condition, timeout: float, context="") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {condition}:\n{context}"
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] != b"Z"


@pytest.mark.slow
def test_links_say_https_behind_a_trusted_proxy_only(tmp_path):
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    web = Web(tmp_path / "a")
    try:
        # Through the micro-cache too: the same page asked plainly, then through the proxy.
        plain = requests.get(web.base + "/", timeout=10).text
        assert f"http://127.0.0.1:{web.port}/https://arxiv.org" in plain
        https = requests.get(web.base + "/", headers=proxied, timeout=10).text
        assert f"https://127.0.0.1:{web.port}/https://arxiv.org" in https
    finally:
        web.stop()
    web = Web(tmp_path / "b", forwarded_allow_ips="10.0.0.1")  # loopback is not trusted
    try:
        ignored = requests.get(web.base + "/", headers=proxied, timeout=10).text
        assert f"http://127.0.0.1:{web.port}/https://arxiv.org" in ignored
    finally:
        web.stop()


def _first_visit_in_flight(web: Web, paper: str) -> tuple[threading.Thread, dict]:
    """A first visit (no fetch worker runs, so it waits PAPERMIRROR_FETCH_WAIT for its
    paper), returned once the app has queued its id: the request is inside the server."""
    result: dict = {}

    def visit():
        try:
            result["response"] = requests.get(f"{web.base}/arxiv/{paper}", timeout=60)
        except requests.RequestException as exc:
            result["error"] = exc

    thread = threading.Thread(target=visit)
    thread.start()
    client = redis.Redis.from_url(web.redis.url)
    wait_for(lambda: client.zcard(keys.PENDING) > 0 or not thread.is_alive(), 30, web)
    assert thread.is_alive(), result
    return thread, result


@pytest.mark.slow
def test_sigterm_lets_a_request_in_flight_finish(tmp_path):
    web = Web(tmp_path, fetch_wait=4, web_stop_timeout=30)
    try:
        thread, result = _first_visit_in_flight(web, "2411.00001")
        web.process.send_signal(signal.SIGTERM)
        thread.join(60)
        # The waiting reader got its whole answer: the "fetching" page, not a reset.
        assert "response" in result, result
        assert result["response"].status_code == 202
        assert "2411.00001" in result["response"].text
        assert web.process.wait(30) == 0, web
        assert not web.answers()
    finally:
        web.stop()


@pytest.mark.slow
def test_sigterm_gives_up_on_a_request_after_the_stop_timeout(tmp_path):
    web = Web(tmp_path, fetch_wait=9, web_stop_timeout=1)
    try:
        thread, result = _first_visit_in_flight(web, "2411.00002")
        web.process.send_signal(signal.SIGTERM)
        # Stopped while the request still waits for its paper (9 s): its worker was killed.
        web.process.wait(30)
        assert thread.is_alive() or "error" in result, result
        thread.join(60)
        assert "error" in result, result
    finally:
        web.stop()


def scrape_requests(web: Web) -> float:
    text = requests.get(web.base + "/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "papermirror_http_requests_total" and s.labels.get("route") == "/"
    )


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_counts_are_kept(tmp_path):
    directory = tmp_path / "metrics"
    web = Web(tmp_path, multiproc_dir=directory, web_workers=2, metrics="on")
    try:
        wait_for(lambda: len(web.workers()) == 2, 30, web)

        def counting() -> list[int]:  # workers that have counted requests
            return [p for p in web.workers() if (directory / f"counter_{p}.db").exists()]

        def ask() -> bool:  # one request per connection: the kernel spreads them
            assert requests.get(web.base + "/", timeout=10).status_code == 200
            return bool(counting())

        wait_for(ask, 60, web)
        counted = scrape_requests(web)
        assert counted >= 1
        victim = counting()[0]
        os.kill(victim, signal.SIGKILL)
        # granian starts a new worker in its place, which serves.
        wait_for(lambda: victim not in web.workers() and len(web.workers()) == 2, 60, web)
        wait_for(web.answers, 30, web)
        # What the dead worker counted still counts: Prometheus sees no reset.
        assert scrape_requests(web) >= counted
        assert (directory / f"counter_{victim}.db").exists()
    finally:
        web.stop()


@pytest.mark.slow
def test_workers_die_with_a_killed_main_process(tmp_path):
    web = Web(tmp_path, web_workers=2)
    try:
        wait_for(lambda: len(web.workers()) == 2, 30, web)
        workers = web.workers()
        os.kill(web.process.pid, signal.SIGKILL)
        web.process.wait()
        # No orphan keeps the port: a supervisor can start a new server at once.
        wait_for(lambda: not any(alive(pid) for pid in workers), 30, web)
    finally:
        web.stop()


def test_a_web_process_loads_no_arxiv_client_feed_parser_or_cron_parser(tmp_path):
    """Each web process holds its imports: the workers' arXiv client (requests, urllib3),
    the feed parser and RQ's cron parser (croniter, dateutil) cost it ~5 MB, and
    prometheus-client ~2 MB with metrics off (the default), for nothing it serves
    (bench/memory.py)."""
    code = (
        "import sys\n"
        "from papermirror.settings import Settings\n"
        "from server.serve import build_app\n"
        "app = build_app(Settings.from_env())\n"
        "for path in ('/', '/arxiv/2104.12255', '/arxiv/cs.AI', '/search?q=x'):\n"
        "    app.test_client().get(path)  # no Redis here: answered 503, still no import\n"
        "heavy = {'requests', 'urllib3', 'feedparser', 'croniter', 'dateutil'}\n"
        "heavy |= {'prometheus_client'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    env = {**os.environ, "PAPERMIRROR_DATA_DIR": str(tmp_path), "PAPERMIRROR_METRICS": "off"}
    env["PAPERMIRROR_REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens there
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
