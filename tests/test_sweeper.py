"""Every pending first visit keeps a job that will fetch it (worker.sweeper).

The unit tests drive one sweep against a real Redis. The slow ones reproduce
each way an id was stranded with no job, with real worker processes and the
replay arXiv server, and then show the scheduler's sweeper fetching it without
anyone visiting again.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from rq import Queue, Retry
from rq.job import Job
from rq.registry import FailedJobRegistry

from papermirror import keys
from papermirror.store import Store
from tests.stack import Stack, process_tree
from worker.sweeper import DRAIN_JOB, SWEEP_HOLD, drain_in_hand, sweep_once

AGE = 30.0


def drains(queue: Queue) -> list[Job]:
    return [j for j in queue.get_jobs() if j.func_name == DRAIN_JOB]


def test_nothing_to_do_without_old_pending_ids(redis_client):
    store = Store(redis_client)
    assert sweep_once(redis_client, AGE) == "idle"
    store.add_pending(["2401.00001"], now=time.time() - 5)  # young: its own job is on it
    assert sweep_once(redis_client, AGE) == "idle"
    assert drains(Queue(keys.FETCH_QUEUE, connection=redis_client)) == []


def test_a_stranded_id_gets_one_drain_job(redis_client):
    queue = Queue(keys.FETCH_QUEUE, connection=redis_client)
    Store(redis_client).add_pending(["2401.00001", "2401.00002"], now=time.time() - 60)
    assert sweep_once(redis_client, AGE) == "enqueued"
    [job] = drains(queue)
    assert job.retries_left == 3  # the web tier's retry policy
    # The queued job covers the ids: the next sweeps add nothing.
    assert sweep_once(redis_client, AGE) == "covered"
    assert len(drains(queue)) == 1


@pytest.mark.parametrize("where", ["lock", "scheduled"])
def test_a_running_or_retrying_drain_covers_the_ids(redis_client, where):
    queue = Queue(keys.FETCH_QUEUE, connection=redis_client)
    Store(redis_client).add_pending(["2401.00001"], now=time.time() - 60)
    if where == "lock":
        redis_client.set(keys.FETCH_LOCK, "holder", ex=15)
    else:  # a failed drain waiting for its retry
        from datetime import timedelta

        queue.enqueue_in(timedelta(seconds=60), DRAIN_JOB)
    assert drain_in_hand(redis_client, queue)
    assert sweep_once(redis_client, AGE) == "covered"
    assert drains(queue) == []


def test_the_sweeper_backs_off_while_ids_stay_stranded(redis_client):
    queue = Queue(keys.FETCH_QUEUE, connection=redis_client)
    Store(redis_client).add_pending(["2401.00001"], now=time.time() - 60)
    gaps = []
    for _ in range(4):
        assert sweep_once(redis_client, AGE) == "enqueued"
        gaps.append(redis_client.ttl(SWEEP_HOLD))
        queue.empty()  # the drain ran and failed: arXiv is still down
        assert sweep_once(redis_client, AGE) == "held"
        redis_client.delete(SWEEP_HOLD)  # as if the hold had expired
    assert gaps == [30, 60, 120, 240]
    # Once nothing is stranded, the next stranding starts again at the first gap.
    Store(redis_client).clear_pending(["2401.00001"])
    assert sweep_once(redis_client, AGE) == "idle"
    Store(redis_client).add_pending(["2401.00003"], now=time.time() - 60)
    assert sweep_once(redis_client, AGE) == "enqueued"
    assert redis_client.ttl(SWEEP_HOLD) == 30


# --- with real workers ---------------------------------------------------------------

FAST_SWEEP = {"sweep_interval": 1, "sweep_after": 3}


def wait_until(predicate, timeout: float, what: str) -> float:
    """Wait for ``predicate``; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"timed out: {what}"
        time.sleep(0.1)
    return time.monotonic() - start


def stranded(stack: Stack, paper: str) -> bool:
    """The id waits in the pending set and no job will ever fetch it."""
    client = stack.redis
    queue = Queue(keys.FETCH_QUEUE, connection=client)
    pending = Store(client).pending_since([paper])[0] is not None
    return pending and not drain_in_hand(client, queue)


@pytest.mark.slow
def test_a_drain_killed_mid_fetch_strands_its_id_until_the_sweeper_runs(tmp_path, replay):
    paper = "2406.19956"
    stack = Stack.start(tmp_path, replay, workers=1)
    try:
        store, queue = Store(stack.redis), Queue(keys.FETCH_QUEUE, connection=stack.redis)
        replay.inject("slow", count=1, path="/api/query", delay=8)
        store.add_pending([paper])
        # What the web tier enqueues for a first visit.
        job = queue.enqueue(DRAIN_JOB, retry=Retry(max=3, interval=[5, 20, 60]))
        wait_until(
            lambda: any(r.fault == "slow" for r in replay.requests("/api/query")), 20, "fetch"
        )
        [worker] = stack.workers
        # The fetch workers are SimpleWorkers (worker.warm): the drain runs in the worker
        # itself, so killing the drain is killing the worker (and its scheduler child).
        for pid, _ in reversed(process_tree(worker.pid)):
            os.kill(pid, signal.SIGKILL)
        worker.wait(10)
        stack.workers.remove(worker)
        stack.add_worker()  # what papermirror up's supervisor does
        # The dead worker's job is abandoned and its lock outlives it: nothing fetches the id.
        wait_until(lambda: stranded(stack, paper), 60, "stranding")
        assert store.get_blob(paper) is None and job.id

        stack.add_scheduler(**FAST_SWEEP)
        # The drain stores the record, then takes the id off the pending set: wait for both.
        took = wait_until(
            lambda: store.get_blob(paper) is not None and store.pending_count() == 0,
            60,
            "the sweeper's fetch",
        )
        print(f"\nfetched {took:.1f} s after the sweeper started")
    finally:
        stack.stop()


@pytest.mark.slow
def test_retries_run_out_while_arxiv_is_down_then_the_sweeper_fetches(tmp_path, replay):
    paper = "2302.03287"
    stack = Stack.start(tmp_path, replay, workers=1)
    try:
        store, queue = Store(stack.redis), Queue(keys.FETCH_QUEUE, connection=stack.redis)
        replay.inject("status", count=1000, path="/api/query", status=503)
        store.add_pending([paper])
        job = queue.enqueue(DRAIN_JOB, retry=Retry(max=1, interval=1))
        wait_until(lambda: job.id in FailedJobRegistry(queue=queue).get_job_ids(), 60, "failure")
        replay.clear()  # arXiv is back; nobody visits again
        # The failed drain scheduled its own follow-up (papermirror.fetching), so the id
        # is no longer stranded; the sweeper is the second line of defence.
        stack.add_scheduler(**FAST_SWEEP)
        took = wait_until(lambda: store.get_blob(paper) is not None, 60, "the sweeper's fetch")
        print(f"\nfetched {took:.1f} s after the sweeper started")
    finally:
        replay.clear()
        stack.stop()
