"""Shared bits of the benchmarks: the repo on sys.path, JSON output, wrk parsing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def emit(result: dict) -> None:
    """Print one benchmark's result as JSON."""
    print(json.dumps(result, indent=2))


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(
    url: str, connections: int, seconds: int, threads: int = 1, headers: tuple[str, ...] = ()
) -> dict:
    """Run wrk against ``url``; requests/s and latency percentiles in ms."""
    extra = [arg for h in headers for arg in ("-H", h)]
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {}
    for p, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        pct[f"p{p}_ms"] = round(float(value) * _UNITS[unit], 3)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests_per_second": rps,
        **pct,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else None,
    }


def hey(url: str, connections: int, seconds: int, rate: float) -> dict:
    """Run hey against ``url`` at a fixed offered ``rate`` (requests/s in all); p50/p99 in ms.

    Unlike wrk's closed loop, where the faster server also queues more requests,
    a fixed rate compares two servers' latency under the same load.
    """
    per_connection = max(1.0, rate / connections)
    out = subprocess.run(
        ["hey", "-z", f"{seconds}s", "-c", str(connections), "-q", f"{per_connection:.2f}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pct = {
        f"p{p}_ms": round(float(v) * 1000, 3)
        for p, v in re.findall(r"^\s+(50|99)%+ in ([\d.]+) secs", out, re.M)
    }
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", out))
    return {
        "requests_per_second": rps,
        **pct,
        "non_2xx": sum(int(n) for c, n in codes.items() if not c.startswith("2")),
    }


def spread(values) -> dict:
    """min, median and max of repeated measurements."""
    v = sorted(values)
    return {"min": round(v[0], 3), "median": round(v[len(v) // 2], 3), "max": round(v[-1], 3)}
