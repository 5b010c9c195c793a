"""First visits under `papermirror up`: no cliff behind a busy limiter, no delay when idle.

Three figures, each 3 repeats (min, median, max), against the replay arXiv server
(every arrival and end logged on this process's monotonic clock):

* ``behind_busy_limiter``: paper A is opened, then paper B 0.3 s later, at
  arXiv's 3 s interval with arXiv answering in 1 s. Baseline: the limiter's
  next slot (A's request end + interval, less B's visit start) plus arXiv's
  answer time for B. Goal: B's page time / baseline <= 1.1.
* ``lone_visit_to_arxiv_call_ms``: idle mirror, one visit: from sending the
  visit to arXiv seeing the call. Goal <= 50 ms.
* ``batching``: 100 simultaneous first visits: arXiv calls. Goal <= 2.

Usage: python bench/first_visit.py
"""

from __future__ import annotations

import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import _common
import requests

from tests.replay import ReplayServer
from tests.stack import Mirror

INTERVAL = 3.0
ARXIV_ANSWER = 1.0
REPEATS = 3


def spread(values: list[float], digits: int = 3) -> dict:
    """min, median and max of the repeats."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def call_for(replay: ReplayServer, paper_id: str):
    """The logged arXiv request that asked for ``paper_id``."""
    for r in replay.requests("/api/query"):
        if paper_id in (r.param("id_list") or "").split(","):
            return r
    raise LookupError(paper_id)


def call_for_or_none(replay: ReplayServer, paper_id: str):
    """Like call_for, or None when arXiv was not asked yet."""
    try:
        return call_for(replay, paper_id)
    except LookupError:
        return None


def wait_idle(replay: ReplayServer, seconds: float) -> None:
    """Until arXiv has seen nothing for ``seconds`` (the limiter is idle again)."""
    while True:
        log = replay.requests()
        last = max((r.done or r.t for r in log), default=0.0)
        if log and all(r.done for r in log) and time.monotonic() - last > seconds:
            return
        if not log:
            return
        time.sleep(0.1)


def behind_busy_limiter(base: str, replay: ReplayServer, pairs: list[tuple[str, str]]) -> dict:
    ratios, waits, baselines, statuses, notes = [], [], [], [], []
    session = requests.Session()
    for a, b in pairs:
        wait_idle(replay, INTERVAL + 0.5)
        replay.inject("slow", count=2, path="/api/query", delay=ARXIV_ANSWER)
        threading.Thread(target=session.get, args=(f"{base}/arxiv/{a}",), daemon=True).start()
        time.sleep(0.3)
        started = time.monotonic()
        resp = requests.get(f"{base}/arxiv/{b}", timeout=60)
        took = time.monotonic() - started
        statuses.append(resp.status_code)
        if resp.status_code != 200:  # report it; the ratio then counts the page's own wait
            notes.append(re.findall(r'<p class="notice".*?</p>', resp.text, re.S)[:1])
            for _ in range(600):
                if call_for_or_none(replay, b) and call_for(replay, b).done:
                    break
                time.sleep(0.1)
        call_a, call_b = call_for(replay, a), call_for(replay, b)
        baseline = (call_a.done + INTERVAL - started) + (call_b.done - call_b.t)
        ratios.append(took / baseline)
        waits.append(took)
        baselines.append(baseline)
    return {
        "page_s": spread(waits),
        "baseline_s": spread(baselines),
        "ratio": spread(ratios),
        "page_statuses": statuses,
        "notes_when_not_200": notes,
        "goal_ratio_max": 1.1,
        "met": max(ratios) <= 1.1 and set(statuses) == {200},
    }


def lone_visit(base: str, replay: ReplayServer, ids: list[str]) -> dict:
    delays = []
    for paper_id in ids:
        wait_idle(replay, INTERVAL + 0.5)
        started = time.monotonic()
        assert requests.get(f"{base}/arxiv/{paper_id}", timeout=60).status_code == 200
        delays.append((call_for(replay, paper_id).t - started) * 1000)
    return {
        "ms": spread(delays, 1),
        "goal_ms_max": 50,
        "met": statistics.median(delays) <= 50,
    }


def batching(base: str, replay: ReplayServer, waves: list[list[str]]) -> dict:
    calls = []
    for ids in waves:
        wait_idle(replay, INTERVAL + 0.5)
        before = len(replay.requests("/api/query"))
        barrier = threading.Barrier(len(ids))

        def visit(pid: str, barrier=barrier) -> None:
            barrier.wait()
            requests.get(f"{base}/arxiv/{pid}", timeout=60)

        threads = [threading.Thread(target=visit, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        calls.append(len(replay.requests("/api/query")) - before)
    return {"arxiv_calls": spread(calls, 0), "goal_calls_max": 2, "met": max(calls) <= 2}


def main() -> None:
    """Run the benchmark and print JSON."""
    with ReplayServer() as replay, tempfile.TemporaryDirectory() as tmp:
        known = sorted(replay.api.entries)
        mirror = Mirror.start(Path(tmp), replay.api_url, arxiv_min_interval=INTERVAL)
        try:
            # Warm the web workers (imports, templates) without touching arXiv.
            for _ in range(8):
                requests.get(f"{mirror.base}/", timeout=30)
            lone = lone_visit(mirror.base, replay, known[:REPEATS])
            pairs = [(known[3 + 2 * k], known[4 + 2 * k]) for k in range(REPEATS)]
            busy = behind_busy_limiter(mirror.base, replay, pairs)
            waves = [[f"24{10 + k}.{n:05d}" for n in range(1, 101)] for k in range(REPEATS)]
            batch = batching(mirror.base, replay, waves)
        finally:
            mirror.stop()
        gap = replay.min_gap("/api/query")
    _common.emit(
        {
            "benchmark": "first_visit",
            "interval_s": INTERVAL,
            "arxiv_answer_s": ARXIV_ANSWER,
            "repeats": REPEATS,
            "behind_busy_limiter": busy,
            "lone_visit_to_arxiv_call": lone,
            "batching_100_visits": batch,
            "smallest_gap_s": round(gap, 3) if gap is not None else None,
        }
    )


if __name__ == "__main__":
    main()
