"""WSGI servers compared: gunicorn gthread against granian, on a raw WSGI app and on the mirror.

Both servers run with the same process and thread counts as `papermirror up`
(web_workers, web_threads), all at once; each repeat measures every
(server, target) pair in turn, so ratios are within a repeat:

* ``raw``: a WSGI callable answering 7.4 KB of fixed bytes (bench/_rawapp.py);
* ``bare``: the mirror's /healthz/live, a bare Flask route;
* ``page``: a cached paper page (answered by the micro-cache).

Prints requests/s and p99 per pair, min/median/max over 3 repeats, and
granian ÷ gunicorn per target. Needs wrk (``apt-get install wrk``) and granian
(``pip install granian``); benchmarks are not run in CI.
Usage: python bench/servers.py [--seconds 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import bz2
import os
import tempfile

import _common
import _servers
import redis

from papermirror import embedded
from papermirror.feeds import parse_feed
from papermirror.settings import Settings
from papermirror.store import Store
from tests.conftest import FIXTURES

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
KINDS = ("gunicorn", "granian")


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    defaults = Settings()
    workers, threads = defaults.web_workers, defaults.web_threads
    paper = parse_feed(bz2.open(FIXTURES / FEED).read()).items[0].paper
    started: list[_servers.Server] = []
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = embedded.start(tmp, appendonly=False)
        try:
            Store(redis.Redis.from_url(redis_server.url)).upsert(paper)
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(_common.ROOT), str(_common.ROOT / "bench")]),
                "PAPERMIRROR_REDIS_URL": redis_server.url,
                "PAPERMIRROR_MATHJAX_URL": "",
            }
            urls = {}
            for kind in KINDS:
                raw = _servers.wsgi(kind, "_rawapp:app", workers, threads, env=env)
                started.append(raw)
                app = _servers.wsgi(
                    kind, "server:create_app()", workers, threads, env=env, ready="/healthz/live"
                )
                started.append(app)
                urls[kind] = {
                    "raw": raw.base + "/",
                    "bare": app.base + "/healthz/live",
                    "page": app.base + f"/arxiv/{paper.id}",
                }
            for targets in urls.values():  # warm-up, unmeasured
                for url in targets.values():
                    _common.wrk(url, args.connections, 2)
            runs = {k: {t: [] for t in ("raw", "bare", "page")} for k in KINDS}
            for _ in range(args.repeats):
                for target in ("raw", "bare", "page"):
                    for kind in KINDS:
                        runs[kind][target].append(
                            _common.wrk(urls[kind][target], args.connections, args.seconds)
                        )
        finally:
            for server in started:
                server.stop()
            redis_server.stop()
    summary = {
        kind: {
            target: {
                "requests_per_second": _common.spread(r["requests_per_second"] for r in rs),
                "p99_ms": _common.spread(r["p99_ms"] for r in rs),
            }
            for target, rs in targets.items()
        }
        for kind, targets in runs.items()
    }
    ratios = {
        target: {
            "rps": _common.spread(
                a["requests_per_second"] / b["requests_per_second"]
                for a, b in zip(runs["granian"][target], runs["gunicorn"][target], strict=True)
            ),
            "p99": _common.spread(
                a["p99_ms"] / b["p99_ms"]
                for a, b in zip(runs["granian"][target], runs["gunicorn"][target], strict=True)
            ),
        }
        for target in ("raw", "bare", "page")
    }
    _common.emit(
        {
            "benchmark": "servers",
            "workers": workers,
            "threads": threads,
            "connections": args.connections,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "targets": summary,
            "granian_over_gunicorn": ratios,
            "errors": {
                f"{k}/{t}": sum(r["non_2xx"] for r in rs)
                for k, ts in runs.items()
                for t, rs in ts.items()
            },
        }
    )


if __name__ == "__main__":
    main()
