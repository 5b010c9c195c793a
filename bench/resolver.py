"""Benchmark: papermirror.ids.resolve over the URL case table. Prints one JSON object.

The baseline, measured in the same run on the same inputs, is one compiled ``re.findall`` of a
naive new-style id pattern: the least any resolver must do. Machines are noisy, so compare the
ratio, not the raw rates, between runs. Usage: ``python bench/resolver.py [seconds]``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from papermirror.ids import resolve  # noqa: E402

GOAL = 100_000
NAIVE = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?")


def rate(fn, inputs: list[str], seconds: float) -> float:
    """Inputs per second for ``fn`` over ``inputs``, repeated for about ``seconds``."""
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for text in inputs:
            fn(text)
        done += len(inputs)
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def main() -> None:
    """Measure resolver and baseline in alternating slices; print the result as JSON."""
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    if hasattr(os, "sched_setaffinity"):
        # One core, as the goal is stated; keeps the scheduler from moving us mid-run.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with open(ROOT / "tests" / "data" / "url_cases.toml", "rb") as f:
        inputs = [case["input"] for case in tomllib.load(f)["case"]]
    rate(resolve, inputs, 0.2)
    rate(NAIVE.findall, inputs, 0.2)
    ours, base = [], []
    slices = 8
    for _ in range(slices):
        ours.append(rate(resolve, inputs, seconds / slices))
        base.append(rate(NAIVE.findall, inputs, seconds / slices / 2))
    ours_best, base_best = max(ours), max(base)
    print(
        json.dumps(
            {
                "benchmark": "resolver",
                "urls": len(inputs),
                "urls_per_second": round(ours_best),
                "goal": GOAL,
                "meets_goal": ours_best >= GOAL,
                "baseline": "re.findall(r'\\d{4}\\.\\d{4,5}(?:v\\d+)?')",
                "baseline_urls_per_second": round(base_best),
                "ratio": round(ours_best / base_best, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
