"""WSGI servers compared: gunicorn gthread against granian, on a raw WSGI app and on the mirror.

Both servers run with the same process and thread counts as `papermirror up`
(web_workers, web_threads), all at once; each repeat measures every
(server, target) pair in turn, so ratios are within a repeat:

* ``raw``: a WSGI callable answering 7.4 KB of fixed bytes (bench/_rawapp.py);
* ``bare``: the mirror's /healthz/live, a bare Flask route;
* ``page``: a cached paper page, /arxiv/1707.08567v1 as bench/page.py (a full
  API record: a feed-only record is re-checked with arXiv, so never cached);
* ``listing``: /arxiv/cs.AI of the real 1,504-paper day (also micro-cached).

Before the load, with every target served a few times, it also takes each
mirror server's idle PSS (its whole process tree, as bench/memory.py does).

Prints requests/s and p99 per pair, min/median/max over 3 repeats, and
granian ÷ gunicorn per target; then, since wrk's closed loop lets the faster
server queue more, p99 of the page and the listing at one fixed offered rate
(half what gunicorn served, with hey). The ``granian_…`` flags are the rule
that made granian the web server (``python -m server.serve``): faster on the
cached page in every repeat, p99 no worse at the median. On this loaded 2-core
machine (1 worker, 64 threads), granian ÷ gunicorn (min/median/max):
requests/s on the page 4.32/4.40/5.02, listing 1.79/1.95/2.10, bare route
1.69/1.93/2.37, raw WSGI 6.8/9.0/10.1; page p99 0.63/0.88/1.33 (wrk) and
0.36/0.81/1.91 at 2,034 req/s; listing p99 0.75 and 1.45 at the median;
idle PSS 67.3 against 69.4 MB. p99 is the noisy figure: two earlier runs had
the page's at 2.3-2.8x gunicorn's at the median (wrk) with 3.3-6.0x its rate.

Needs wrk (``apt-get install wrk``) and gunicorn (``pip install -e '.[bench]'``);
benchmarks are not run in CI.
Usage: python bench/servers.py [--seconds 5] [--repeats 3] [--workers N]
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
from papermirror.arxiv.api import parse_api_feed
from papermirror.arxiv.feeds import parse_feed
from papermirror.daily import day_listings
from papermirror.layout import web_processes
from papermirror.listings import Listings, archive_of
from papermirror.settings import Settings
from papermirror.store import Store
from tests.conftest import FIXTURES

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
API = "api2026_idlist_two_ids_one_missing_0808.05394_1707.08567.xml"
PAPER = "1707.08567"
KINDS = ("gunicorn", "granian")
TARGETS = ("raw", "bare", "page", "listing")
FIXED_RATE_TARGETS = ("page", "listing")
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
    paper = next(p for p in parse_api_feed((FIXTURES / API).read_bytes()).papers if p.id == PAPER)
    started: list[_servers.Server] = []
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = embedded.start(tmp, appendonly=False)
        try:
            client = redis.Redis.from_url(redis_server.url)
            Store(client).upsert_many([*papers, paper])
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
                "page": f"/arxiv/{paper.id}v1",
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
                        resp = requests.get(app.base + path, timeout=30)
                        resp.raise_for_status()
                        if "no-store" in resp.headers.get("Cache-Control", ""):
                            raise SystemExit(f"{path} is not cacheable: not what this measures")
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
            # p99 at the same offered load: half what gunicorn served of each page at most.
            rates = {
                t: round(min(r["requests_per_second"] for r in runs["gunicorn"][t]) / 2)
                for t in FIXED_RATE_TARGETS
            }
            fixed = {k: {t: [] for t in FIXED_RATE_TARGETS} for k in KINDS}
            for _ in range(args.repeats):
                for target in FIXED_RATE_TARGETS:
                    for kind in KINDS:
                        fixed[kind][target].append(
                            _common.hey(
                                urls[kind][target], args.connections, args.seconds, rates[target]
                            )
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
    fixed_ratios = {
        t: _common.spread(
            a["p99_ms"] / b["p99_ms"]
            for a, b in zip(fixed["granian"][t], fixed["gunicorn"][t], strict=True)
        )
        for t in FIXED_RATE_TARGETS
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
            "granian_faster_on_page_in_every_repeat": ratios["page"]["rps"]["min"] > 1.0,
            "granian_p99_no_worse_on_page_at_median": ratios["page"]["p99"]["median"] <= 1.0,
            "granian_p99_no_worse_on_page_at_a_fixed_rate": fixed_ratios["page"]["median"] <= 1.0,
            "fixed_rate": {
                "requests_per_second": rates,
                "p99_ms": {
                    kind: {t: _common.spread(r["p99_ms"] for r in rs) for t, rs in ts.items()}
                    for kind, ts in fixed.items()
                },
                "granian_over_gunicorn_p99": fixed_ratios,
            },
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
