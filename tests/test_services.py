"""worker.services: the threads of `papermirror up`'s worker process (RQ workers, cron,
scheduler, indexer).

A thread that ends is started again; SIGTERM lets the indexer finish and the
process exit 0. Under `papermirror up`, a written paper becomes findable through
the indexer thread, also after a kill -9 of that process (the supervisor starts it again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from tests.stack import ROOT, Mirror, process_tree
from tests.test_supervise import FAST, RECOVERY_LIMIT, fresh_ids, open_page, running, stop_cleanly

SERVICE_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from worker import services

    log = Path(sys.argv[1])

    def flaky(stop):
        starts = len(log.read_text().splitlines()) if log.exists() else 0
        with log.open("a") as f:
            f.write("start\\n")
        if starts < 2:
            raise RuntimeError("boom")  # ends the thread: it must be started again
        stop.wait()
        with log.open("a") as f:
            f.write("stopped\\n")

    sys.exit(services.run([services.Service("flaky", flaky, stoppable=True)], tick=0.1))
    """
)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_service_thread_that_ends_is_started_again_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "log"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVICE_SCRIPT, str(log)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Two failures: backoff 1 s, then 2 s; generous for a loaded machine.
        wait_for(
            lambda: log.exists() and log.read_text().count("start") >= 3, 60, "never restarted"
        )
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert log.read_text().splitlines() == ["start", "start", "start", "stopped"]
    err = proc.stderr.read()
    assert err.count("flaky failed") == 2 and "RuntimeError: boom" in err


def indexer_process(mirror: Mirror) -> int:
    """The one worker.run process, which runs the indexer: it has loaded tantivy."""
    for pid, cmd in process_tree(mirror.process.pid):
        if "worker.run" in cmd:
            try:
                if "tantivy" in Path(f"/proc/{pid}/maps").read_text():
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no indexer in a worker.run process:\n{mirror.log}")


def findable(mirror: Mirror, paper_id: str, timeout: float = 60) -> None:
    """Wait until the search API finds ``paper_id`` by its id."""
    deadline = time.monotonic() + timeout
    while True:
        resp = requests.get(mirror.base + "/api/search", params={"q": f"id:{paper_id}"}, timeout=15)
        if resp.status_code == 200 and any(p["id"] == paper_id for p in resp.json()["papers"]):
            return
        assert time.monotonic() < deadline, f"{paper_id} never findable:\n{mirror.log}"
        time.sleep(0.5)


@pytest.mark.slow
def test_up_indexes_in_its_worker_process_also_after_a_kill_9(tmp_path, replay):
    first, second = fresh_ids(replay, 2, skip=30)
    mirror = Mirror.start(tmp_path / "data", replay.api_url, **FAST)
    try:
        names = [cmd for _, cmd in process_tree(mirror.process.pid)]
        assert not any("papermirror.search.indexer" in c for c in names), "no indexer process"
        assert open_page(mirror, f"/arxiv/{first}").status_code == 200
        findable(mirror, first)
        assert len(mirror.processes("worker.run")) == 1, "workers and services: one process"
        victim = indexer_process(mirror)
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: not running(victim), RECOVERY_LIMIT, "the worker process lives on")
        # The supervisor starts it again after its backoff; the indexer resumes from its position.
        assert open_page(mirror, f"/arxiv/{second}").status_code == 200
        findable(mirror, second)
        assert indexer_process(mirror) != victim
        print(f"\n{second} findable {time.monotonic() - killed:.1f} s after kill -9")
    finally:
        stop_cleanly(mirror)
