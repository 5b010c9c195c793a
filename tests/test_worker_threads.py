"""RQ workers as threads of one process (worker.threads), as `papermirror up` runs them.

A real Redis, the replay arXiv server and ``python -m worker.run --workers 2``:
two workers, one pid, each registered under its own name; the limiter spaces
their calls as it spaces two processes'; a job's timeout works in a thread; RQ's
shutdown command ends one thread, which is started again; SIGTERM stops them
all at once, each registering its death.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from itertools import pairwise

import pytest
from rq import Queue, Worker
from rq.command import send_shutdown_command
from rq.job import Job

from papermirror import keys
from papermirror.store import Store
from tests.stack import ROOT, Stack

JOB = "worker.jobs.drain_pending"


def spin(seconds: float) -> str:
    """A job that keeps its thread busy in Python for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def wait_until(predicate, timeout: float = 30.0, what: str = "condition") -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - started


def live(stack: Stack) -> list[Worker]:
    """The registered workers that have not registered their death."""
    return [w for w in Worker.all(connection=stack.redis) if not w.death_date]


@pytest.fixture
def threads(tmp_path, replay):
    """A stack with no worker process, and a worker.run process with two worker threads."""
    stack = Stack.start(tmp_path, replay, workers=0)
    env = {**os.environ, **stack.settings.to_env(), "RQ_REDIS_URL": stack.settings.redis_url}
    argv = [sys.executable, "-m", "worker.run", "--workers", "2"]
    argv += ["--worker-class", "worker.warm.WarmWorker", keys.FETCH_QUEUE]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: len(live(stack)) == 2, 30, "two workers")
        yield stack, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stack.stop()


def test_two_worker_threads_share_one_process_and_the_limiter_spaces_them(threads, replay):
    stack, proc = threads
    workers = live(stack)
    assert {w.pid for w in workers} == {proc.pid}
    assert len({w.name for w in workers}) == 2
    store, queue = Store(stack.redis), Queue(keys.FETCH_QUEUE, connection=stack.redis)
    known = sorted(replay.api.entries)
    before = len(replay.requests("/api/query"))
    # As in test_worker's two processes: waves of first visits, a job per id, each
    # wave the moment the previous one is stored, so each call waits for the limiter.
    for wave in range(4):
        ids = [known[wave * 3 + k] for k in range(3)]
        store.add_pending(ids)
        for _ in ids:
            queue.enqueue(JOB)
        wait_until(lambda ids=ids: all(store.get_blob(i) for i in ids), 60, "the wave")
    calls = replay.requests("/api/query")[before:]
    assert len(calls) == 4
    gaps = [b.t - a.t for a, b in pairwise(calls)]
    assert min(gaps) >= stack.settings.arxiv_min_interval - 0.005, gaps
    # Both threads took jobs.
    assert all(w.successful_job_count > 0 for w in live(stack)), [
        (w.name, w.successful_job_count) for w in live(stack)
    ]


def test_a_job_timeout_ends_the_job_not_the_thread(threads):
    stack, _ = threads
    queue = Queue(keys.FETCH_QUEUE, connection=stack.redis)
    slow = queue.enqueue(f"{__name__}.spin", 30, job_timeout=1)
    wait_until(lambda: slow.refresh() or slow.is_failed, 20, "the timeout")
    # RQ's SIGALRM penalty cannot be set from a thread: this is TimerDeathPenalty's.
    assert "JobTimeoutException" in slow.latest_result().exc_string
    quick = queue.enqueue(f"{__name__}.spin", 0.01)
    wait_until(lambda: quick.refresh() or quick.is_finished, 20, "the next job")
    assert Job.fetch(quick.id, connection=stack.redis).return_value() == "done"
    assert len(live(stack)) == 2


def test_a_worker_thread_that_ends_is_started_again_and_sigterm_stops_all(threads):
    stack, proc = threads
    victim, other = live(stack)
    send_shutdown_command(stack.redis, victim.name)
    # The thread registers its death; the process starts a new worker after its backoff (1 s).
    took = wait_until(
        lambda: {w.name for w in live(stack)} - {other.name, victim.name}, 20, "a new worker"
    )
    print(f"\na new worker thread {took:.1f} s after the shutdown command")
    assert victim.name not in {w.name for w in live(stack)}
    assert proc.poll() is None and len(live(stack)) == 2
    assert {w.pid for w in live(stack)} == {proc.pid}
    # SIGTERM: idle workers are woken from their wait on the queue at once.
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0, proc.stderr.read()
    stopped = time.monotonic() - started
    assert stopped < 5, f"took {stopped:.1f} s to stop"
    assert live(stack) == []
