"""Which RQ worker class runs the fetch jobs: time from enqueue to the end of a drain job.

Each class runs as a real `rq worker` process on its own embedded Redis. The job
is the real drain job with nothing pending (what a first visit's job costs
before it calls arXiv: import, settings, Redis, the HTTP session). 3 repeats of
10 jobs each, one at a time; min/median/max of each repeat's median, in ms.

Usage: python bench/worker_class.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
import redis
from rq import Queue, Worker

from papermirror import embedded, keys
from tests.stack import ROOT, stack_settings

CLASSES = [
    "rq.worker.Worker",
    "rq.worker.SpawnWorker",
    "rq.worker.SimpleWorker",
    "worker.warm.WarmWorker",
]
JOBS, REPEATS = 10, 3


def run_class(worker_class: str, tmp: Path) -> dict:
    server = embedded.start(tmp / worker_class.rsplit(".", 1)[1], appendonly=False)
    client = redis.Redis.from_url(server.url)
    # No batching window: the default of papermirror up.
    settings = stack_settings(server.url, "http://127.0.0.1:9/api/query", coalesce_window=0.0)
    argv = [sys.executable, "-m", "rq.cli", "worker", "--worker-class", worker_class]
    argv += ["--url", server.url, keys.FETCH_QUEUE]
    env = {**os.environ, **settings.to_env()}
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while Worker.count(connection=client) == 0:
            time.sleep(0.05)
        queue = Queue(keys.FETCH_QUEUE, connection=client)
        medians = []
        for _ in range(REPEATS):
            times = []
            for _ in range(JOBS):
                started = time.monotonic()
                job = queue.enqueue("worker.jobs.drain_pending")
                while job.get_status(refresh=True) not in ("finished", "failed"):
                    time.sleep(0.002)
                times.append((time.monotonic() - started) * 1000)
            medians.append(statistics.median(times))
        return {
            "ms": {
                "min": round(min(medians), 1),
                "median": round(statistics.median(medians), 1),
                "max": round(max(medians), 1),
            }
        }
    finally:
        proc.terminate()
        proc.wait(20)
        server.stop()


def main() -> None:
    """Run the benchmark and print JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        results = {c: run_class(c, Path(tmp)) for c in CLASSES}
    simple = results["rq.worker.SimpleWorker"]["ms"]["median"]
    _common.emit(
        {
            "benchmark": "worker_class",
            "job": "worker.jobs.drain_pending, nothing pending",
            "enqueue_to_end": results,
            "ratio_to_simple": {
                c: round(r["ms"]["median"] / simple, 2) for c, r in results.items()
            },
        }
    )


if __name__ == "__main__":
    main()
