"""The fetch job under real `rq worker` processes, against the replay arXiv server."""

from __future__ import annotations

import time
from itertools import pairwise

from rq import Queue, Retry
from rq.registry import FailedJobRegistry

from papermirror import keys
from papermirror.store import Store
from tests.stack import Stack

JOB = "worker.jobs.drain_pending"


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_workers_never_call_arxiv_faster_than_the_interval(tmp_path, replay):
    stack = Stack.start(tmp_path, replay, workers=2)
    try:
        store, queue = Store(stack.redis), Queue(keys.FETCH_QUEUE, connection=stack.redis)
        known = sorted(replay.api.entries)
        before = len(replay.requests("/api/query"))
        # Five waves of first visits, each enqueueing a job per id as a burst of
        # visitors would. Each wave starts the moment the previous one is stored,
        # well within the interval, so every call must wait for the limiter.
        for wave in range(5):
            ids = [known[wave * 3 + k] for k in range(3)]
            store.add_pending(ids)
            for _ in ids:
                queue.enqueue(JOB)
            wait_until(lambda ids=ids: all(store.get_blob(i) for i in ids))
        wait_until(lambda: store.pending_count() == 0)
        calls = replay.requests("/api/query")[before:]
        assert len(calls) == 5
        gaps = [b.t - a.t for a, b in pairwise(calls)]
        # 5 ms: the two clocks (Redis TIME, the replay server's) may differ by rounding.
        assert min(gaps) >= stack.settings.arxiv_min_interval - 0.005, gaps
    finally:
        stack.stop()


def test_a_job_that_finally_fails_lands_in_the_failed_registry(stack):
    stack.replay.inject("drop", count=50, path="/api/query")
    try:
        store, queue = Store(stack.redis), Queue(keys.FETCH_QUEUE, connection=stack.redis)
        store.add_pending(["2406.19956"])
        job = queue.enqueue(JOB, retry=Retry(max=1, interval=0))
        # The module's long-running worker takes the job and its retry.
        wait_until(lambda: job.id in FailedJobRegistry(queue=queue).get_job_ids(), timeout=60)
    finally:
        stack.replay.clear()
    job.refresh()
    assert job.retries_left == 0
    assert "ArxivUnavailable" in (job.latest_result().exc_string or "")
    # Visitors are told why, and the id stays queued for the next attempt.
    assert store.status(["2406.19956"])[0][2]
    assert store.pending_since(["2406.19956"])[0] is not None


def test_drain_is_idempotent(stack):
    store, queue = Store(stack.redis), Queue(keys.FETCH_QUEUE, connection=stack.redis)
    store.add_pending(["2302.03287"])
    first = queue.enqueue(JOB)
    wait_until(lambda: first.get_status(refresh=True) == "finished")
    blob = store.get_blob("2302.03287")
    calls = len(stack.replay.requests("/api/query"))
    again = queue.enqueue(JOB)
    wait_until(lambda: again.get_status(refresh=True) == "finished")
    assert again.return_value()["requests"] == 0
    assert store.get_blob("2302.03287") == blob
    assert len(stack.replay.requests("/api/query")) == calls
