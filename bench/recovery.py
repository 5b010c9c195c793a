"""Time until `papermirror up` is whole again after Redis returns, per fault.

Faults: kill -9 of the embedded Redis (the supervisor restarts it; the clock
starts at the kill, and "redis_back_s" says when it answered again), and an
external Redis stopped (SIGTERM, as `systemctl stop` does) for 3 s and for
20 s (the clock starts when it is started again). Per fault and repeat:

- ``pages_s``: until /healthz says ok with every worker and a cached page is served;
- ``first_visit_s``: until a paper never seen before is fetched and served;
- ``scheduler_s``: until RQ's cron scheduler (daily feeds, sweeper) beats again.

Goal (issue 8): everything within 10 s of Redis being back.
Usage: python bench/recovery.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path

import _common
import redis

from papermirror import embedded
from tests.replay import ReplayServer
from tests.stack import Mirror
from tests.test_supervise import get, open_page, scheduler_alive, whole

FAST = {"sweep_interval": 2, "sweep_after": 5}
LIMIT = 120.0


def until(predicate, since: float) -> float:
    """Seconds from ``since`` (monotonic) until ``predicate`` holds."""
    while not predicate():
        if time.monotonic() - since > LIMIT:
            raise SystemExit("no recovery within 120 s: a defect, not a figure")
        time.sleep(0.05)
    return round(time.monotonic() - since, 2)


def recovery(mirror: Mirror, cached: str, new: str, client: redis.Redis, since: float) -> dict:
    """The three recovery times, from ``since``."""
    wall = time.time() - (time.monotonic() - since)
    pages = until(lambda: whole(mirror, cached), since)
    first = until(lambda: open_page(mirror, f"/arxiv/{new}").status_code == 200, since)
    sched = until(lambda: scheduler_alive(client, wall), since)
    return {"pages_s": pages, "first_visit_s": first, "scheduler_s": sched}


def embedded_kill(replay: ReplayServer, ids: list[str], repeats: int) -> list[dict]:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        mirror = Mirror.start(Path(tmp) / "data", replay.api_url, **FAST)
        try:
            cached = ids.pop()
            assert open_page(mirror, f"/arxiv/{cached}").status_code == 200
            url = (mirror.data_dir / "redis" / "url").read_text().strip()
            for _ in range(repeats):
                [server] = mirror.processes("redis-server")
                os.kill(server, signal.SIGKILL)
                killed = time.monotonic()
                back = until(lambda: embedded.ping(url), killed)
                client = redis.Redis.from_url(url)
                runs.append(
                    {"redis_back_s": back, **recovery(mirror, cached, ids.pop(), client, killed)}
                )
        finally:
            mirror.stop()
    return runs


def external_stop(replay: ReplayServer, ids: list[str], down: float, repeats: int) -> list[dict]:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(Path(tmp) / "ext")
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
        mirror = Mirror.start(Path(tmp) / "data", replay.api_url, redis_url=server.url, **FAST)
        try:
            cached = ids.pop()
            assert open_page(mirror, f"/arxiv/{cached}").status_code == 200
            for _ in range(repeats):
                server.stop()
                end = time.monotonic() + down
                while time.monotonic() < end:  # traffic meanwhile, as a live site has
                    assert get(mirror, f"/arxiv/{cached}").status_code in (200, 503)
                    time.sleep(0.2)
                server = embedded.start(Path(tmp) / "ext", port=port)
                back = time.monotonic()
                client = redis.Redis.from_url(server.url)
                runs.append(recovery(mirror, cached, ids.pop(), client, back))
        finally:
            mirror.stop()
            server.stop()
    return runs


def summary(runs: list[dict]) -> dict:
    """min/median/max of each figure."""
    return {
        name: {
            "min": min(r[name] for r in runs),
            "median": statistics.median(r[name] for r in runs),
            "max": max(r[name] for r in runs),
        }
        for name in runs[0]
    }


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with ReplayServer() as replay:
        ids = sorted(replay.api.entries)
        faults = {
            "embedded_redis_kill_9": embedded_kill(replay, ids, args.repeats),
            "external_redis_stopped_3s": external_stop(replay, ids, 3, args.repeats),
            "external_redis_stopped_20s": external_stop(replay, ids, 20, args.repeats),
        }
    result = {name: summary(runs) for name, runs in faults.items()}
    worst = max(s["max"] for f in result.values() for k, s in f.items() if k != "redis_back_s")
    _common.emit(
        {
            "benchmark": "time until recovery after Redis returns",
            "repeats": args.repeats,
            "faults": result,
            "goal_s": 10,
            "goal_met": worst <= 10,
        }
    )


if __name__ == "__main__":
    main()
