"""WSGI servers compared: gunicorn gthread against granian, on a raw WSGI app and on the mirror.

Both servers run with the same process and thread counts as `papermirror up`
(web_workers, web_threads), all at once; each repeat measures every
(server, target) pair in turn, so ratios are within a repeat:

* ``raw``: a WSGI callable answering 7.4 KB of fixed bytes (bench/_rawapp.py);
* ``bare``: the mirror's /healthz/live, a bare Flask route;
* ``page``: a cached paper page (answered by the micro-cache);
* ``listing``: /arxiv/cs.AI of the real 1,504-paper day (also micro-cached).

Before the load, with every target served a few times, it also takes each
mirror server's idle PSS (its whole process tree, as bench/memory.py does).

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
import time

import _common
import _servers
import redis
import requests
from memory import tree_pss

from papermirror import embedded
from papermirror.daily import day_listings
from papermirror.feeds import parse_feed
from papermirror.layout import web_processes
from papermirror.listings import Listings, archive_of
from papermirror.settings import Settings
from papermirror.store import Store
from tests.conftest import FIXTURES

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
KINDS = ("gunicorn", "granian")
TARGETS = ("raw", "bare", "page", "listing")
LISTING = "cs.AI"


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=0, help="0: as `papermirror up` would")
    args = parser.parse_args()
    defaults = Settings(web_workers=args.workers)
    # What `papermirror up` runs on this machine (PAPERMIRROR_WEB_WORKERS=0: by the cores).
    workers, threads = web_processes(defaults), defaults.web_threads
    feed = parse_feed(bz2.open(FIXTURES / FEED).read())
    papers = [item.paper for item in feed.items]
    paper = papers[0]
    started: list[_servers.Server] = []
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = embedded.start(tmp, appendonly=False)
        try:
            client = redis.Redis.from_url(redis_server.url)
            Store(client).upsert_many(papers)
            terms = sorted({archive_of(c) for p in papers for c in p.categories})
            Listings(client).write_day(feed.date, day_listings(feed, terms))
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(_common.ROOT), str(_common.ROOT / "bench")]),
                "PAPERMIRROR_REDIS_URL": redis_server.url,
                "PAPERMIRROR_MATHJAX_URL": "",
            }
            paths = {
                "bare": "/healthz/live",
                "page": f"/arxiv/{paper.id}",
                "listing": f"/arxiv/{LISTING}",
            }
            urls, apps = {}, {}
            for kind in KINDS:
                raw = _servers.wsgi(kind, "_rawapp:app", workers, threads, env=env)
                started.append(raw)
                apps[kind] = _servers.wsgi(
                    kind, "server:create_app()", workers, threads, env=env, ready=paths["bare"]
                )
                started.append(apps[kind])
                urls[kind] = {"raw": raw.base + "/"}
                urls[kind].update({t: apps[kind].base + path for t, path in paths.items()})
            # What preload + gc.freeze buy: the mirror under granian's bare CLI, for PSS only.
            apps["granian_without_preload"] = _servers.wsgi(
                "granian-bare",
                "server:create_app()",
                workers,
                threads,
                env=env,
                ready=paths["bare"],
            )
            started.append(apps["granian_without_preload"])
            for app in apps.values():
                for path in paths.values():
                    for _ in range(10):
                        requests.get(app.base + path, timeout=30).raise_for_status()
            time.sleep(5)  # idle: let each settle
            pss = {kind: tree_pss(app.process.pid) for kind, app in apps.items()}
            apps["granian_without_preload"].stop()
            for targets in urls.values():  # warm-up, unmeasured
                for url in targets.values():
                    _common.wrk(url, args.connections, 2)
            runs = {k: {t: [] for t in TARGETS} for k in KINDS}
            for _ in range(args.repeats):
                for target in TARGETS:
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
        for target in TARGETS
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
            "idle_pss_mb": {k: v["mb"] for k, v in pss.items()},
            "idle_pss_by_command": {k: v["by_command"] for k, v in pss.items()},
            "errors": {
                f"{k}/{t}": sum(r["non_2xx"] for r in rs)
                for k, ts in runs.items()
                for t, rs in ts.items()
            },
        }
    )


if __name__ == "__main__":
    main()
