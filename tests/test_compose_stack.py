"""The compose stack, run for real without Docker: each service's command as a local process.

The commands and environments come from docker-compose.yml (see tests/compose.py):
Debian's redis-server with the compose file's arguments and a directory standing
for its volume, then the web server, the workers (as many as ``replicas``) and
the scheduler. arXiv is the replay server. Only ports, the ``redis`` host name
and the arXiv URL differ from the containers, as a test's .env would make them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import requests
from rq import Worker
from rq.cron import CronScheduler

from papermirror import embedded
from tests import compose
from tests.compose import ROOT

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]

WALK_URL = "https://arxiv.org/abs/2104.12255"
KILL_ID = "1707.08567"
LATE_ID = "astro-ph/0601001"
SLOW = 6.0  # seconds the replay server holds the request the killed worker is waiting on
# What a test's .env sets: arXiv is the replay server, and timings are short.
TEST_ENV = {
    "PAPERMIRROR_CONTACT": "tests@papermirror.invalid",
    "PAPERMIRROR_ARXIV_MIN_INTERVAL": "0.2",
    "PAPERMIRROR_ARXIV_TIMEOUT": "3",
    "PAPERMIRROR_ARXIV_RETRIES": "1",
    "PAPERMIRROR_ARXIV_MAX_BACKOFF": "0.5",
    "PAPERMIRROR_FETCH_WAIT": "2",
    "PAPERMIRROR_COALESCE_WINDOW": "0.05",
    "PAPERMIRROR_LOG_LEVEL": "DEBUG",
}


@dataclass
class Process:
    """One running replica of a service."""

    service: compose.Service
    cwd: Path
    log: Path
    popen: subprocess.Popen | None = None
    stopped: bool = False  # by the test, on purpose

    def start(self) -> None:
        """Start it in its own process group, as a container has its own processes."""
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.cwd),
            "PYTHONUNBUFFERED": "1",
        }
        self.stopped = False
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(
                self.service.argv,
                cwd=self.cwd,
                env={**base, **self.service.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, sig: int) -> None:
        """Signal the main process, as `docker stop` does; SIGKILL takes all, as `docker kill`."""
        self.stopped = True
        if self.popen.poll() is not None:
            return
        # An RQ work horse runs in its own process group, yet dies with its container.
        targets = (
            [self.popen.pid, *_descendants(self.popen.pid)]
            if sig == signal.SIGKILL
            else [self.popen.pid]
        )
        for pid in targets:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL after ``timeout``, like `docker compose stop`."""
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait()

    def healthy(self) -> bool:
        """Whether the service's compose healthcheck passes now."""
        check = subprocess.run(
            self.service.healthcheck,
            cwd=self.cwd,
            capture_output=True,
            timeout=10,
            env={"PATH": os.environ.get("PATH", "")},
        )
        return check.returncode == 0


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


@dataclass
class ComposeStack:
    """The compose services, running locally."""

    base: str
    redis_url: str
    procs: dict[str, list[Process]] = field(default_factory=dict)

    @property
    def redis(self) -> redis.Redis:
        """A client on the stack's Redis."""
        return redis.Redis.from_url(self.redis_url)

    def wait(self, what, timeout: float = 30, step: float = 0.2):
        """Poll ``what()`` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while not (value := what()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what.__doc__ or what}")
            for name, procs in self.procs.items():
                for p in procs:
                    if p.popen.poll() is not None and not p.stopped:
                        raise AssertionError(f"{name} exited: {p.log.read_text()[-3000:]}")
            time.sleep(step)
        return value

    def workers(self) -> list[Worker]:
        """Registered RQ workers."""
        return Worker.all(connection=self.redis)

    def logs(self) -> str:
        """The tail of every process's output, for failure messages."""
        return "\n".join(
            f"--- {p.log.name}\n{p.log.read_text()[-2000:]}"
            for procs in self.procs.values()
            for p in procs
        )


def open_page(base: str, path: str, timeout: float) -> requests.Response:
    """GET a page, following its 202 'fetching' refresh (3 s) like a browser, up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while (page := requests.get(base + path, timeout=15)).status_code == 202:
        if time.monotonic() > deadline:
            return page
        time.sleep(3)
    return page


@pytest.fixture(scope="module")
def stack(tmp_path_factory, replay):
    """docker-compose.yml's services as local processes, on the replay arXiv server."""
    if not Path("/usr/bin/redis-server").exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's redis-server is missing; .ci/run must install it")
        pytest.skip("Debian's redis-server is not installed (apt-get install redis-server)")
    tmp = tmp_path_factory.mktemp("compose")
    ports = {"redis": (6379, embedded.free_port()), "web": (8000, embedded.free_port())}
    dotenv = {
        **compose.read_env_file(compose.ENV_EXAMPLE),
        **TEST_ENV,
        "PAPERMIRROR_ARXIV_API_URL": replay.api_url,
    }
    services = {n: compose.localize(s, ports) for n, s in compose.project(dotenv).items()}
    volume = tmp / "redis-data"  # the named volume, mounted where the image's redis runs
    volume.mkdir()
    s = ComposeStack(
        f"http://127.0.0.1:{ports['web'][1]}", f"redis://127.0.0.1:{ports['redis'][1]}/0"
    )
    try:
        for name in ("redis", "web", "worker", "scheduler"):
            svc = services[name]
            s.procs[name] = [
                Process(svc, volume if name == "redis" else ROOT, tmp / f"{name}-{n + 1}.log")
                for n in range(svc.replicas)
            ]
            for p in s.procs[name]:
                p.start()
            if name == "redis":
                # depends_on: condition: service_healthy
                s.wait(s.procs["redis"][0].healthy, timeout=20)
        s.wait(s.procs["web"][0].healthy, timeout=60)
        s.wait(lambda: len(s.workers()) == services["worker"].replicas)
        s.wait(lambda: CronScheduler.all(s.redis))
        yield s
    finally:
        for name in ("scheduler", "worker", "web", "redis"):
            for p in s.procs.get(name, []):
                p.stop()


def test_stack_runs_every_service_healthy(stack):
    assert [len(stack.procs[n]) for n in ("redis", "web", "worker", "scheduler")] == [1, 1, 2, 1]
    health = requests.get(stack.base + "/healthz", timeout=5).json()
    assert (health["status"], health["redis"], health["workers"]) == ("ok", "ok", 2)
    schedulers = CronScheduler.all(stack.redis)
    assert len(schedulers) == 1, "exactly one scheduler"
    assert schedulers[0].get_jobs(), "the scheduler registered no cron job"


def test_url_walks_to_the_paper_page(stack, replay):
    resp = requests.get(
        stack.base + "/go", params={"url": WALK_URL}, allow_redirects=False, timeout=10
    )
    assert (resp.status_code, resp.headers["Location"]) == (302, "/arxiv/2104.12255")
    page = open_page(stack.base, resp.headers["Location"], timeout=30)
    assert page.status_code == 200, stack.logs()
    assert "2104.12255" in page.text
    assert any("2104.12255" in r.param("id_list", "") for r in replay.requests("/api/query"))


def test_job_completes_when_its_worker_is_killed(stack, replay):
    """SIGKILL the worker that is mid-request to arXiv; the paper still arrives."""
    replay.inject("slow", count=1, path="/api/query", delay=SLOW)
    first = requests.get(f"{stack.base}/arxiv/{KILL_ID}", timeout=15)
    assert first.status_code == 202  # fetching, and arXiv has not answered yet

    def busy():
        """a worker busy with the fetch"""
        return next((w for w in stack.workers() if w.get_state() == "busy"), None)

    victim = stack.wait(busy, timeout=10)
    assert any(r.fault == "slow" and r.done is None for r in replay.requests("/api/query"))
    proc = next(p for p in stack.procs["worker"] if p.popen.pid == victim.pid)
    proc.signal(signal.SIGKILL)
    proc.popen.wait(10)
    killed_at = time.monotonic()

    # Keep visiting, as the 202 page does by itself every 3 seconds.
    page = open_page(stack.base, f"/arxiv/{KILL_ID}", timeout=240)
    took = time.monotonic() - killed_at
    assert page.status_code == 200, stack.logs()
    assert KILL_ID in page.text
    fetches = [r for r in replay.requests("/api/query") if KILL_ID in r.param("id_list", "")]
    assert len(fetches) == 2, "one killed mid-request, one by the surviving worker"
    # Whichever comes first does it: the refreshing page re-enqueues a fetch once the
    # id has been pending 30 s, and RQ's maintenance (every 60 s, --maintenance-interval)
    # requeues the dead worker's job; either runs once the drain lock (15 s) expires.
    print(f"\npaper arrived {took:.1f} s after its worker was killed")


def test_redis_restart_and_crash_lose_no_cached_paper(stack, replay):
    # Papers no other test here opens, so the test runs the same in any order.
    cached = ["2005.14124", "1912.09881"]
    for paper in cached:
        assert open_page(stack.base, f"/arxiv/{paper}", timeout=60).status_code == 200
    calls = len(replay.requests("/api/query"))
    redis_proc = stack.procs["redis"][0]
    web = stack.procs["web"][0]

    # `docker compose restart redis` (SIGTERM), then a crash (SIGKILL) after the
    # append-only file's once-a-second fsync.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        time.sleep(1.5)
        redis_proc.signal(sig)
        redis_proc.popen.wait(20)
        assert not web.healthy(), "Docker must see the web service unhealthy without Redis"
        redis_proc.start()
        stack.wait(redis_proc.healthy, timeout=20)
        stack.wait(web.healthy, timeout=30)
        for paper in cached:
            page = requests.get(f"{stack.base}/arxiv/{paper}", timeout=10)
            assert page.status_code == 200 and paper in page.text
        assert len(replay.requests("/api/query")) == calls, "a cached paper was fetched again"

    # The workers reconnected: a new paper is fetched as usual.
    page = open_page(stack.base, f"/arxiv/{LATE_ID}", timeout=60)
    assert page.status_code == 200, stack.logs()
    for name in ("web", "worker", "scheduler"):
        for p in stack.procs[name]:
            if p.popen.poll() is not None and not p.stopped:
                pytest.fail(f"{name} died when Redis restarted: {p.log.read_text()[-3000:]}")
