"""Coalescing: arXiv calls for 100 concurrent first visits to distinct papers.

`papermirror up` runs with the arXiv interval set to 1 s and two workers; 100
clients open 100 different papers at the same instant. The replay arXiv server
counts the calls it receives and the smallest gap between two of them.

Goals: at most 2 calls; the smallest gap never under the interval.
Usage: python bench/coalescing.py
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from pathlib import Path

import _common
import requests

from tests.replay import ReplayServer
from tests.stack import Mirror

VISITS = 100
INTERVAL = 1.0


def burst(base: str, ids: list[str]) -> Counter:
    """Open every paper at the same instant, one client each; count the page statuses."""
    barrier = threading.Barrier(len(ids))
    statuses = Counter()

    def visit(pid: str) -> None:
        barrier.wait()
        statuses[requests.get(f"{base}/arxiv/{pid}", timeout=30).status_code] += 1

    threads = [threading.Thread(target=visit, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def main() -> None:
    """Run the benchmark and print JSON."""
    with ReplayServer() as replay, tempfile.TemporaryDirectory() as tmp:
        known = sorted(replay.api.entries)  # real recorded papers
        # The rest are well-formed ids arXiv would not know; they still cost a lookup.
        first = (known + [f"2409.{n:05d}" for n in range(1, VISITS)])[:VISITS]
        second = [f"2410.{n:05d}" for n in range(1, VISITS + 1)]
        mirror = Mirror.start(Path(tmp), replay.api_url, workers=2, arxiv_min_interval=INTERVAL)
        waves = []
        try:
            for ids in (first, second):  # the second burst starts as soon as the first ends
                before = len(replay.requests("/api/query"))
                statuses = burst(mirror.base, ids)
                waves.append(
                    {
                        "visits": len(ids),
                        "arxiv_calls": len(replay.requests("/api/query")) - before,
                        "page_statuses": dict(statuses),
                    }
                )
        finally:
            mirror.stop()
        calls = replay.requests("/api/query")
        gap = replay.min_gap("/api/query")
    _common.emit(
        {
            "benchmark": "coalescing",
            "interval_s": INTERVAL,
            "known_to_replay": len(known),
            "waves": waves,
            "ids_per_call": [len((c.param("id_list") or "").split(",")) for c in calls],
            "smallest_gap_s": round(gap, 3) if gap is not None else None,
            "goal_max_calls_per_100_visits": 2,
            # Every visit must have ended in a page (200) or "no such paper" (404): a 202
            # or 503 would mean fetches still under way, or failed, when counting.
            "met": all(
                1 <= w["arxiv_calls"] <= 2 and set(w["page_statuses"]) <= {200, 404} for w in waves
            )
            and (gap is None or gap >= INTERVAL),
        }
    )


if __name__ == "__main__":
    main()
