"""Faults at arXiv, as a reader and as arXiv see them, under `papermirror up`.

Real settings (3 s interval, 30 s timeout, 3 retries, 8 s page wait), the replay
arXiv server with injected faults. 3 repeats each, min/median/max:

* ``told``: seconds from a first visit until its reader has a page saying why
  the paper is not there yet, per fault: HTTP 503s, dropped connections, a hang
  past the timeout, ``Retry-After: 300``. Goal <= 10 s. Each repeat runs on a
  fresh mirror, so none inherits another's backoff.
* ``flood``: a first visit's page time during a flood of 1,800 fresh ids (36
  clients x 50 ids), against the same visit on the idle mirror, in one run.
  Goal: flood <= without + one interval.
* ``politeness``: over a run with redirect chains, hangs past the timeout, slow
  answers, 429s without Retry-After and dropped connections, the smallest gap
  between two requests' starts and between one's end and the next's start, and
  the largest number of requests in flight, as arXiv saw them. Goal: gaps >=
  the interval, in flight <= 1.

Usage: python bench/faults.py [--only told|flood|politeness]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import _common
import requests
from requests.adapters import HTTPAdapter

from tests.replay import ReplayServer
from tests.stack import Mirror

INTERVAL = 3.0
REPEATS = 3
FAULTS = {
    "http_503": {"kind": "status", "status": 503},
    "dropped_connection": {"kind": "drop"},
    "hang_past_timeout": {"kind": "hang"},
    "retry_after_300": {"kind": "status", "status": 503, "retry_after": 300},
}
TOLD = ("did not answer", "slow to answer", "answered with an error", "rate-limiting us")


def spread(values: list[float], digits: int = 3) -> dict:
    """min, median and max of the repeats."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def told(replay: ReplayServer, tmp: Path) -> dict:
    out = {}
    known = sorted(replay.api.entries)
    n = 0
    for name, fault in FAULTS.items():
        times = []
        for repeat in range(REPEATS):
            replay.clear()
            options = {k: v for k, v in fault.items() if k != "kind"}
            replay.inject(fault["kind"], count=1000, path="/api/query", **options)
            mirror = Mirror.start(
                tmp / f"{name}-{repeat}", replay.api_url, arxiv_min_interval=INTERVAL
            )
            try:
                paper = known[n]
                n += 1
                started = time.monotonic()
                resp = requests.get(f"{mirror.base}/arxiv/{paper}", timeout=60)
                took = time.monotonic() - started
                assert any(t in resp.text for t in TOLD), resp.text[-800:]
                assert f"https://arxiv.org/abs/{paper}" in resp.text
                times.append(took)
            finally:
                replay.clear()  # a hung request ends when the mirror stops
                mirror.stop()
        out[name] = {"seconds": spread(times), "goal_s_max": 10, "met": max(times) <= 10}
    return out


class _From(HTTPAdapter):
    """Connect from a given loopback address: one 'client' per address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def client_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _From(address))
    return session


def flood(replay: ReplayServer, tmp: Path) -> dict:
    known = sorted(replay.api.entries)
    mirror = Mirror.start(tmp / "flood", replay.api_url, arxiv_min_interval=INTERVAL)
    reader = client_from("127.0.0.2")
    try:
        for _ in range(8):
            reader.get(f"{mirror.base}/", timeout=30)
        without = []
        for paper in known[:REPEATS]:
            time.sleep(INTERVAL + 0.5)
            started = time.monotonic()
            assert reader.get(f"{mirror.base}/arxiv/{paper}", timeout=60).status_code == 200
            without.append(time.monotonic() - started)
        # The flood: 36 bulk clients, 50 fresh ids each, all at once (2 s of an attacker's time).
        statuses = []

        def bulk(k: int) -> None:
            ids = ",".join(f"2409.{n:05d}" for n in range(k * 50 + 1, k * 50 + 51))
            session = client_from(f"127.0.{1 + k // 200}.{10 + k % 200}")
            statuses.append(session.get(f"{mirror.base}/arxiv/{ids}", timeout=60).status_code)

        threads = [threading.Thread(target=bulk, args=(k,)) for k in range(36)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with_flood = []
        for paper in known[REPEATS : 2 * REPEATS]:
            time.sleep(1.0)
            started = time.monotonic()
            assert reader.get(f"{mirror.base}/arxiv/{paper}", timeout=60).status_code == 200
            with_flood.append(time.monotonic() - started)
        flood_calls = len(replay.requests("/api/query"))
    finally:
        mirror.stop()
    excess = [f - statistics.median(without) for f in with_flood]
    return {
        "flood_ids": 1800,
        "flood_page_statuses": sorted(set(statuses)),
        "without_flood_s": spread(without),
        "with_flood_s": spread(with_flood),
        "excess_s": spread(excess),
        "ratio": spread([f / statistics.median(without) for f in with_flood]),
        "arxiv_calls_so_far": flood_calls,
        "goal_excess_s_max": INTERVAL,
        "met": max(excess) <= INTERVAL,
    }


def politeness(replay: ReplayServer, tmp: Path) -> dict:
    interval = 1.0
    runs = []
    for repeat in range(REPEATS):
        replay.clear()
        mirror = Mirror.start(
            tmp / f"polite-{repeat}",
            replay.api_url,
            arxiv_min_interval=interval,
            arxiv_timeout=2.0,
            arxiv_max_backoff=4.0,
            workers=2,
        )
        try:
            faults = [
                ("redirect", {"count": 3}),
                ("hang", {"count": 1}),
                ("slow", {"count": 1, "delay": 1.5}),
                ("status", {"count": 1, "status": 429}),
                ("drop", {"count": 1}),
                ("redirect", {"count": 2}),
                ("hang", {"count": 1}),
            ]
            for kind, options in faults:
                replay.inject(kind, path="/api/query", **options)
            ids = [f"230{1 + repeat}.{n:05d}" for n in range(1, 13)]
            seen: list = []

            def visit(pid: str, base: str = mirror.base, seen: list = seen) -> None:
                try:
                    seen.append(requests.get(f"{base}/arxiv/{pid}", timeout=90).status_code)
                except requests.RequestException as exc:
                    seen.append(type(exc).__name__)

            threads = []
            for pid in ids:  # visits trickle in while the faults play out
                threads.append(threading.Thread(target=visit, args=(pid,)))
                threads[-1].start()
                time.sleep(0.7)
            for t in threads:
                t.join()
            deadline = time.monotonic() + 120
            while replay._faults and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(2 * interval)
        finally:
            mirror.stop()
        log = sorted(replay.requests("/api/query"), key=lambda r: r.t)
        if len(log) < 2:
            raise RuntimeError(f"arXiv saw {len(log)} requests; pages: {seen}")
        starts = [b.t - a.t for a, b in zip(log, log[1:], strict=False)]
        ends = [b.t - a.done for a, b in zip(log, log[1:], strict=False) if a.done]
        runs.append(
            {
                "requests": len(log),
                "faulted": sum(1 for r in log if r.fault),
                "min_start_gap_s": min(starts),
                "min_end_to_start_s": min(ends),
                "max_in_flight": replay.max_in_flight,
            }
        )
    return {
        "interval_s": interval,
        "requests": spread([r["requests"] for r in runs], 0),
        "faulted_requests": spread([r["faulted"] for r in runs], 0),
        "min_start_gap_s": spread([r["min_start_gap_s"] for r in runs]),
        "min_end_to_start_s": spread([r["min_end_to_start_s"] for r in runs]),
        "max_in_flight": spread([r["max_in_flight"] for r in runs], 0),
        "met": all(
            r["min_end_to_start_s"] >= interval - 0.01 and r["max_in_flight"] <= 1 for r in runs
        ),
    }


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["told", "flood", "politeness"])
    args = parser.parse_args()
    result: dict = {"benchmark": "faults", "interval_s": INTERVAL, "repeats": REPEATS}
    with ReplayServer() as replay, tempfile.TemporaryDirectory() as tmp:
        for name, run in (("told", told), ("flood", flood), ("politeness", politeness)):
            if args.only in (None, name):
                result[name] = run(replay, Path(tmp))
    _common.emit(result)


if __name__ == "__main__":
    main()
