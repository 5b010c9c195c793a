"""The supervisor's rules with real, short-lived child processes (papermirror.supervise)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from itertools import pairwise

import pytest

from papermirror import supervise
from papermirror.layout import web_processes
from papermirror.settings import Settings
from papermirror.supervise import Child, Supervisor

CRASH = [sys.executable, "-c", "import sys; sys.exit(3)"]
SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


class Starts:
    """Wraps a child's start() to record when it ran."""

    def __init__(self, child: Child):
        self.times: list[float] = []
        original = child.start

        def start(env):
            self.times.append(time.monotonic())
            original(env)

        child.start = start


def run_for(supervisor: Supervisor, seconds: float, during=None) -> None:
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    try:
        if during:
            during()
        time.sleep(seconds)
    finally:
        supervisor.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_backoff_doubles_up_to_the_cap_and_never_gives_up(monkeypatch):
    monkeypatch.setattr(supervise, "BACKOFF_FIRST", 0.2)
    monkeypatch.setattr(supervise, "BACKOFF_CAP", 0.8)
    child = Child("crasher", CRASH, needs_redis=False)
    starts = Starts(child)
    run_for(Supervisor([child], {}, lambda: True), 6.0)
    gaps = [b - a for a, b in pairwise(starts.times)]
    assert len(starts.times) >= 6, "it gave up on the child"
    # 0.2, 0.4, 0.8, then capped at 0.8 (plus the start-up of a Python process each time).
    assert gaps[0] < gaps[2], gaps
    assert all(g < 0.8 + 1.5 for g in gaps), gaps
    assert all(g >= 0.2 for g in gaps), gaps


def test_a_child_waiting_for_its_backoff_restarts_when_redis_answers_again(monkeypatch):
    monkeypatch.setattr(supervise, "BACKOFF_FIRST", 25.0)
    redis_up = threading.Event()
    child = Child("worker", CRASH, needs_redis=True)
    starts = Starts(child)

    def outage_then_back():
        time.sleep(2.0)  # the child crashed and waits 25 s; Redis is down meanwhile
        assert len(starts.times) == 1
        redis_up.set()

    run_for(Supervisor([child], {}, redis_up.is_set), 2.5, during=outage_then_back)
    assert len(starts.times) >= 2, "not restarted when Redis came back"
    assert starts.times[1] - starts.times[0] < 5


def test_stop_all_stops_every_child():
    children = [Child(f"sleeper-{n}", SLEEP) for n in range(3)]
    run_for(Supervisor(children, {}, lambda: True), 1.0)
    assert all(c.process.poll() is not None for c in children)


def test_the_supervisor_imports_no_redis_client():
    """redis-py alone costs ~20 MB per process; `papermirror up` itself needs none."""
    code = (
        "import sys, papermirror.cli; print(sorted({'redis', 'requests', 'rq'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("cores", "setting", "expected"),
    [
        (1, 0, 1),
        (2, 0, 1),
        (3, 0, 1),
        (4, 0, 2),
        (8, 0, 4),
        (64, 0, 4),
        (2, 3, 3),
    ],
)
def test_web_processes_follow_the_cores(monkeypatch, cores, setting, expected):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert web_processes(Settings.from_env({}, web_workers=setting)) == expected


class _TakenFirst:
    """Ports promised to someone else: the first ``count`` the kernel offers."""

    def __init__(self, count: int):
        self.count, self.offered = count, []

    def __contains__(self, port) -> bool:
        self.offered.append(port)
        return len(self.offered) <= self.count


def test_the_embedded_redis_port_is_never_one_promised_to_the_web_server():
    from papermirror import embedded

    taken = _TakenFirst(2)
    port = embedded.free_port(avoid=taken)
    # Both refused ports were asked about, and the one returned is the third offered.
    assert len(taken.offered) == 3 and port == taken.offered[2]
    assert embedded.free_port(avoid=()) > 0
