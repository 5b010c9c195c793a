"""Cached paper page throughput and p99 under `papermirror up`, vs a bare Flask route and nginx.

Targets, measured in one run and interleaved in each of 3 repeats, so a noisy
neighbour hurts all alike:

* ``bare``: /healthz/live, a bare Flask route, on the same server;
* ``page``: the cached page, plain; ``page_br``: the same asking for brotli;
  ``page_304``: a revalidation with the page's ETag;
* ``nginx``: nginx serving the page's bytes from a file (the machine's limit).

Ratios (page ÷ bare throughput, page p99 ÷ bare p99, page ÷ nginx) are taken
within each repeat; min/median/max over the repeats are printed.
Goals: throughput ratio >= 1.0 and p99 ratio <= 1.0. page ÷ nginx is reported.
Needs wrk and nginx (Debian packages; benchmarks are not run in CI):
``apt-get install nginx wrk``.
Usage: python bench/page.py [--seconds 5] [--repeats 3] [--set web_workers=2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import _common
import _servers
import requests

from tests.replay import ReplayServer
from tests.stack import Mirror

PAPER = "/arxiv/1707.08567v1"  # the largest real record the replay server has (40 authors)


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for papermirror up, e.g. web_workers=3",
    )
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.set)
    with ReplayServer() as replay, tempfile.TemporaryDirectory() as tmp:
        mirror = Mirror.start(Path(tmp) / "mirror", replay.api_url, **{"workers": 1, **extra})
        nginx = None
        try:
            for _ in range(40):  # first visit fetches from the replay server
                answer = requests.get(mirror.base + PAPER, timeout=10)
                if answer.status_code == 200:
                    break
            else:
                raise SystemExit(f"{PAPER} never answered 200: nothing to measure")
            nginx = _servers.nginx(Path(tmp) / "nginx", {"page.html": answer.content})
            targets = {
                "bare": (mirror.base + "/healthz/live", ()),
                "page": (mirror.base + PAPER, ()),
                "page_br": (mirror.base + PAPER, ("Accept-Encoding: br",)),
                "page_304": (mirror.base + PAPER, (f"If-None-Match: {answer.headers['ETag']}",)),
                "nginx": (nginx.base + "/page.html", ()),
            }
            # Unmeasured warm-up under load: every web process compiles its templates,
            # starts its threads and caches the page before anything is timed.
            for url, headers in targets.values():
                _common.wrk(url, args.connections, 2, headers=headers)
            runs = {name: [] for name in targets}
            for _ in range(args.repeats):
                for name, (url, headers) in targets.items():
                    runs[name].append(
                        _common.wrk(url, args.connections, args.seconds, headers=headers)
                    )
        finally:
            mirror.stop()
            if nginx is not None:
                nginx.stop()
    ratios = {
        "page_rps_over_bare": [
            p["requests_per_second"] / b["requests_per_second"]
            for p, b in zip(runs["page"], runs["bare"], strict=True)
        ],
        "page_p99_over_bare": [
            p["p99_ms"] / b["p99_ms"] for p, b in zip(runs["page"], runs["bare"], strict=True)
        ],
        "page_br_rps_over_bare": [
            p["requests_per_second"] / b["requests_per_second"]
            for p, b in zip(runs["page_br"], runs["bare"], strict=True)
        ],
        "page_304_rps_over_bare": [
            p["requests_per_second"] / b["requests_per_second"]
            for p, b in zip(runs["page_304"], runs["bare"], strict=True)
        ],
        "page_rps_over_nginx": [
            p["requests_per_second"] / n["requests_per_second"]
            for p, n in zip(runs["page"], runs["nginx"], strict=True)
        ],
    }
    summary = {
        name: {
            "requests_per_second": _common.spread(r["requests_per_second"] for r in rs),
            "p99_ms": _common.spread(r["p99_ms"] for r in rs),
        }
        for name, rs in runs.items()
    }
    spreads = {k: _common.spread(v) for k, v in ratios.items()}
    clean = all(r["non_2xx"] == 0 and not r["socket_errors"] for rs in runs.values() for r in rs)
    _common.emit(
        {
            "benchmark": "cached_page",
            "connections": args.connections,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "settings": extra,
            "page_bytes": len(answer.content),
            "targets": summary,
            "ratios": spreads,
            "goal": {"page_rps_over_bare": ">= 1.0", "page_p99_over_bare": "<= 1.0"},
            "met": spreads["page_rps_over_bare"]["median"] >= 1.0
            and spreads["page_p99_over_bare"]["median"] <= 1.0
            and clean,
            "all_runs": runs,
        }
    )


if __name__ == "__main__":
    main()
