"""`papermirror up` under faults, with real processes: it never goes down for good.

kill -9 of the embedded Redis, of the workers' process (its worker threads,
schedulers and indexer) and of the web server's main process (granian); an
external Redis stopped for 3 s and for 20 s. While Redis is away no request
gets a 500; within seconds of it coming back, pages, first visits, the
schedulers and /healthz work again with no one touching anything;
Ctrl-C still stops everything.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis
import requests
from rq import Worker
from rq.cron import CronScheduler

from papermirror import buckets, embedded
from tests.stack import Mirror, process_tree

pytestmark = pytest.mark.slow

# Sweep fast, so ids stranded by a fault are fetched within the test's patience.
# fetch_wait 2: a first visit answers 202 while arXiv is slow, as these tests expect.
FAST = {"sweep_interval": 2, "sweep_after": 5, "fetch_wait": 2}
# The issue asks for 10 s; the margin is for this shared, loaded machine.
RECOVERY_LIMIT = 20.0


def get(mirror: Mirror, path: str) -> requests.Response:
    return requests.get(mirror.base + path, timeout=15)


def open_page(mirror: Mirror, path: str, timeout: float = 60) -> requests.Response:
    """GET a page, following its 202 'fetching' answers as the page itself would."""
    deadline = time.monotonic() + timeout
    while (page := get(mirror, path)).status_code in (202, 503):
        assert time.monotonic() < deadline, f"{path} never arrived:\n{mirror.log}"
        time.sleep(0.5)
    return page


def assert_polite_outage(resp: requests.Response) -> None:
    """While Redis is away: a page or a clear 503, never a 500 or exception text."""
    assert resp.status_code in (200, 404, 503), (resp.status_code, resp.text[:500])
    if resp.status_code == 503:
        assert int(resp.headers["Retry-After"]) > 0
        for leak in ("Traceback", "ConnectionError", "redis.", "Errno"):
            assert leak not in resp.text
        if resp.request.path_url.startswith("/api/"):
            assert resp.json()["error"] == "storage unavailable"
        elif not resp.request.path_url.startswith("/healthz"):
            assert "Storage unavailable" in resp.text


def probe_during(mirror: Mirror, seconds: float, paths: list[str]) -> int:
    """Request ``paths`` over and over for ``seconds``; returns how many 503s were seen."""
    unavailable = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path in paths:
            resp = get(mirror, path)
            assert_polite_outage(resp)
            unavailable += resp.status_code == 503
        time.sleep(0.2)
    return unavailable


def redis_client(mirror: Mirror, url: str | None = None) -> redis.Redis:
    url = url or (mirror.data_dir / "redis" / "url").read_text().strip()
    return redis.Redis.from_url(url)


def whole(mirror: Mirror, cached: str, workers: int = 2) -> bool:
    """/healthz is ok with every worker, and a cached page is served."""
    try:
        health = get(mirror, "/healthz")
        page = get(mirror, f"/arxiv/{cached}")
    except requests.RequestException:
        return False
    return (
        health.status_code == 200
        and health.json()["workers"] == workers
        and health.json()["status"] == "ok"
        and page.status_code == 200
        and cached in page.text
    )


def wait_whole(mirror: Mirror, cached: str, since: float, limit: float = RECOVERY_LIMIT) -> float:
    while not whole(mirror, cached):
        took = time.monotonic() - since
        assert took < limit, f"not whole {took:.1f} s after the fault ended:\n{mirror.log}"
        assert mirror.process.poll() is None, f"papermirror up exited:\n{mirror.log}"
        time.sleep(0.2)
    return time.monotonic() - since


def scheduler_alive(client: redis.Redis, since: float) -> bool:
    """RQ's cron scheduler (daily feeds, sweeper) beat after ``since`` (a wall-clock time)."""
    try:
        return any(
            s.last_heartbeat and s.last_heartbeat.timestamp() > since
            for s in CronScheduler.all(client)
        )
    except redis.RedisError:
        return False


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] != b"Z"


def stop_cleanly(mirror: Mirror) -> None:
    """Ctrl-C stops `papermirror up` with 0 and leaves no process behind."""
    pids = [pid for pid, _ in process_tree(mirror.process.pid)]
    assert mirror.stop() == 0, mirror.log
    time.sleep(0.5)
    left = [pid for pid in pids if running(pid)]
    assert not left, f"left running: {left}"


def fresh_ids(replay, count: int, skip: int = 0) -> list[str]:
    return sorted(replay.api.entries)[skip : skip + count]


def wait_replaced(mirror, name: str, old: list[int], count: int, since: float) -> None:
    """Wait until the killed process's old children are gone and ``count`` new ``name``
    processes run, within RECOVERY_LIMIT of ``since``."""
    deadline = since + RECOVERY_LIMIT
    while any(running(pid) for pid in old) or len(mirror.processes(name)) < count:
        assert time.monotonic() < deadline, f"no new {name}:\n{mirror.log}"
        time.sleep(0.2)


def test_kill_9_of_the_embedded_redis_mid_fetch(tmp_path, replay):
    cached, *batch, late = fresh_ids(replay, 10)
    mirror = Mirror.start(tmp_path / "data", replay.api_url, **FAST)
    try:
        assert open_page(mirror, f"/arxiv/{cached}").status_code == 200
        # Eight first visits whose one batched request arXiv is slow to answer.
        replay.inject("slow", count=1, path="/api/query", delay=5)
        assert get(mirror, f"/arxiv/{','.join(batch)}").status_code == 202
        [server] = mirror.processes("redis-server")
        os.kill(server, signal.SIGKILL)
        killed = time.monotonic()
        assert_polite_outage(get(mirror, f"/api/papers/{batch[0]}"))
        took = wait_whole(mirror, cached, killed)
        print(f"\nwhole again {took:.1f} s after kill -9 of the embedded Redis")
        [again] = mirror.processes("redis-server")
        assert again != server
        client = redis_client(mirror)
        # The eight are fetched with no one visiting again (the sweeper), and a new
        # first visit works as usual.
        deadline = time.monotonic() + 90
        while None in buckets.get_many(client, batch):
            assert time.monotonic() < deadline, f"stranded ids:\n{mirror.log}"
            time.sleep(0.5)
        assert open_page(mirror, f"/arxiv/{late}").status_code == 200
        assert scheduler_alive(client, time.time() - 5)
    finally:
        stop_cleanly(mirror)


def test_kill_9_of_the_workers_process(tmp_path, replay):
    cached, first, second = fresh_ids(replay, 3, skip=10)
    mirror = Mirror.start(tmp_path / "data", replay.api_url, **FAST)
    try:
        assert open_page(mirror, f"/arxiv/{cached}").status_code == 200
        client = redis_client(mirror)
        # The RQ workers are threads of one process, with the schedulers and the indexer.
        [victim] = mirror.processes("worker.run")
        old = Worker.all(connection=client)
        assert len(old) == 2 and {w.pid for w in old} == {victim}
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        while running(victim):  # SIGKILL lands a moment after kill() returns
            time.sleep(0.01)
        # The dead workers stay registered in RQ for minutes; /healthz must not count them.
        health = get(mirror, "/healthz").json()
        assert health["workers"] == 0 and health["status"] == "degraded"
        # The supervisor starts the process again.
        wait_replaced(mirror, "worker.run", [victim], 1, killed)
        took = wait_whole(mirror, cached, killed)
        print(f"\nwhole again {took:.1f} s after kill -9 of the workers' process")
        [again] = mirror.processes("worker.run")
        assert again != victim
        # RQ still lists the dead workers beside the new ones; /healthz counted them out.
        now = Worker.all(connection=client)
        assert {w.pid for w in now} == {victim, again} and len(now) == 4
        assert open_page(mirror, f"/arxiv/{first}").status_code == 200
        assert scheduler_alive(client, time.time() - 5)
        assert open_page(mirror, f"/arxiv/{second}").status_code == 200
    finally:
        stop_cleanly(mirror)


def test_kill_9_of_the_web_servers_main_process(tmp_path, replay):
    cached, later = fresh_ids(replay, 2, skip=20)
    # Two web workers, so that more than one process must go for a new server to bind.
    mirror = Mirror.start(tmp_path / "data", replay.api_url, web_workers=2, **FAST)
    try:
        assert open_page(mirror, f"/arxiv/{cached}").status_code == 200
        main, *old_workers = mirror.processes("server.serve")
        assert len(old_workers) == 2, mirror.processes("server.serve")
        os.kill(main, signal.SIGKILL)
        killed = time.monotonic()
        # Its workers die with it (the kernel tells them, PR_SET_PDEATHSIG) and the
        # supervisor starts a new server, whose main process and two workers serve.
        wait_replaced(mirror, "server.serve", old_workers, 3, killed)
        took = wait_whole(mirror, cached, killed)
        print(f"\nwhole again {took:.1f} s after kill -9 of the web server's main process")
        assert main not in mirror.processes("server.serve")
        assert open_page(mirror, f"/arxiv/{later}").status_code == 200
    finally:
        stop_cleanly(mirror)


def test_an_external_redis_stopped_for_3_s_and_for_20_s(tmp_path, replay):
    ids = fresh_ids(replay, 3, skip=30)
    cached = ids[0]
    server = embedded.start(tmp_path / "ext-redis")
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    mirror = Mirror.start(tmp_path / "data", replay.api_url, redis_url=server.url, **FAST)
    try:
        assert open_page(mirror, f"/arxiv/{cached}").status_code == 200
        for down, new in ((3, ids[1]), (20, ids[2])):
            server.stop()  # `systemctl stop redis`: SIGTERM, Redis saves and exits
            stopped = time.time()
            seen = probe_during(
                mirror, down, ["/", f"/arxiv/{new}", f"/api/papers/{new}", "/healthz"]
            )
            assert seen, "nothing answered 503 while Redis was away"
            server = embedded.start(tmp_path / "ext-redis", port=port)
            back = time.monotonic()
            took = wait_whole(mirror, cached, back)
            print(f"\nwhole again {took:.1f} s after Redis returned from {down} s away")
            assert open_page(mirror, f"/arxiv/{new}").status_code == 200
            client = redis.Redis.from_url(server.url)
            deadline = time.monotonic() + RECOVERY_LIMIT
            while not scheduler_alive(client, stopped + down):
                assert time.monotonic() < deadline, f"the scheduler never came back:\n{mirror.log}"
                time.sleep(0.5)
    finally:
        stop_cleanly(mirror)
        server.stop()


def test_sigterm_stops_everything_even_while_redis_is_away(tmp_path, replay):
    """Started against a Redis that is not there: it serves 503s, and SIGTERM still stops it."""
    port = embedded.free_port()
    mirror = Mirror.start(
        tmp_path / "data", replay.api_url, redis_url=f"redis://127.0.0.1:{port}/0", **FAST
    )
    pids = [pid for pid, _ in process_tree(mirror.process.pid)]
    try:
        assert_polite_outage(get(mirror, "/arxiv/2104.12255"))
        assert get(mirror, "/healthz").status_code == 503
        assert len(mirror.processes("worker.run")) >= 1, "the workers wait for Redis"
    finally:
        mirror.process.send_signal(signal.SIGTERM)
        assert mirror.process.wait(30) == 0, mirror.log
    time.sleep(0.5)
    assert not [pid for pid in pids if running(pid)]


def test_kill_9_of_up_itself_leaves_nothing_running_and_a_second_up_is_refused(tmp_path, replay):
    cached = fresh_ids(replay, 1, skip=25)[0]
    data = tmp_path / "data"
    mirror = Mirror.start(data, replay.api_url, **FAST)
    try:
        assert open_page(mirror, f"/arxiv/{cached}").status_code == 200
        # One mirror per data dir: a second Redis on the same files would corrupt them.
        with pytest.raises(RuntimeError):
            Mirror.start(data, replay.api_url, timeout=20)
        assert "a mirror already runs on" in mirror.log
        pids = [pid for pid, _ in process_tree(mirror.process.pid)[1:]]
        time.sleep(1.5)  # the append-only file is fsynced every second
        mirror.process.kill()
        mirror.process.wait()
        deadline = time.monotonic() + 30
        while left := [pid for pid in pids if running(pid)]:
            assert time.monotonic() < deadline, f"orphans of a killed up: {left}"
            time.sleep(0.2)
    finally:
        mirror.stop()
    calls = len(replay.requests("/api/query"))
    mirror = Mirror.start(data, replay.api_url, **FAST)
    try:
        assert get(mirror, f"/arxiv/{cached}").status_code == 200
        assert len(replay.requests("/api/query")) == calls, "the cached paper was lost"
    finally:
        stop_cleanly(mirror)
