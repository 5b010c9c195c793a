"""Listing pages: a 1,000-entry re-render after one record changed, and /api/listings.

The real 1,504-paper day is stored (records and per-category listings) in an
embedded Redis; the spec is the union of archives, largest first, until it
holds at least 1,000 papers. Each iteration changes one record of the day,
so the page's ETag changes and the view runs in full: reads the day, hashes
it, selects, assembles the entries and renders. The micro-cache is off, so
nothing is answered from memory, and the timing includes the request through
Flask (test client, no network).

* ``rerender_ms``: with the entry fragments cached (the steady state);
* ``cold_render_ms``: with the fragment cache emptied first (every entry
  rendered: what every change cost before);
* ``api_rerender_ms``: /api/listings for the same spec after a change.

3 repeats of 10 iterations; min/median/max of the repeats' medians.
Goal: rerender at most 10 ms for 1,000 entries. The web thread's CPU time
(``*_cpu_ms``, time.thread_time) is printed too: on a shared, loaded machine the
wall time is mostly waiting for a core.
Usage: python bench/listing.py [--repeats 3] [--iterations 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import replace

import _common
import redis

from papermirror import embedded
from papermirror.arxiv.feeds import parse_feed
from papermirror.daily import day_listings
from papermirror.listings import Listings, archive_of
from papermirror.settings import Settings
from papermirror.store import Store
from tests.replay import load_fixture

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
GOAL_MS = 10.0
TARGET = 1000


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    feed = parse_feed(load_fixture(FEED))
    papers = [item.paper for item in feed.items]
    primaries = Counter(archive_of(p.categories[0]) for p in papers if p.categories)
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(tmp, appendonly=False)
        try:
            client = redis.Redis.from_url(server.url)
            store = Store(client)
            store.upsert_many(papers)
            terms = sorted({archive_of(c) for p in papers for c in p.categories})
            Listings(client).write_day(feed.date, day_listings(feed, terms))

            from server import create_app
            from server.fragments import fragments

            app = create_app(
                Settings(redis_url=server.url, micro_cache_mb=0, page_cache_seconds=0.0)
            )
            web = app.test_client()
            chosen: list[str] = []
            for archive, _ in primaries.most_common():
                chosen.append(archive)
                data = web.get("/api/listings/" + ",".join(sorted(chosen))).get_json()
                if len(data["papers"]) >= TARGET:
                    break
            spec = ",".join(sorted(chosen))
            entries = len(data["papers"])
            ids = [p["id"] for p in data["papers"]]

            changed = 0

            def change_one() -> None:
                nonlocal changed
                changed += 1
                p = store.get(ids[changed % len(ids)])
                store.upsert(replace(p, title=f"{p.title} ({changed})"))

            def timed(path: str, cold: bool) -> tuple[float, float]:
                change_one()
                if cold:
                    fragments._items.clear()
                t, cpu = time.perf_counter(), time.thread_time()
                answer = web.get(path)
                elapsed = (time.perf_counter() - t) * 1000
                used = (time.thread_time() - cpu) * 1000
                assert answer.status_code == 200
                return elapsed, used

            for path in ("/arxiv/" + spec, "/api/listings/" + spec):
                timed(path, False)  # warm: templates compiled, fragments cached
            results = {
                "rerender_ms": [],
                "cold_render_ms": [],
                "api_rerender_ms": [],
                "rerender_cpu_ms": [],
                "cold_render_cpu_ms": [],
            }
            for _ in range(args.repeats):
                for name, path, cold in (
                    ("rerender_ms", "/arxiv/" + spec, False),
                    ("cold_render_ms", "/arxiv/" + spec, True),
                    ("api_rerender_ms", "/api/listings/" + spec, False),
                ):
                    runs = [timed(path, cold) for _ in range(args.iterations)]
                    results[name].append(statistics.median(r[0] for r in runs))
                    if name != "api_rerender_ms":
                        cpu_name = name.replace("_ms", "_cpu_ms")
                        results[cpu_name].append(statistics.median(r[1] for r in runs))
                    if cold:
                        timed("/arxiv/" + spec, False)  # refill the fragments
        finally:
            server.stop()
    spreads = {k: _common.spread(v) for k, v in results.items()}
    per_1000 = spreads["rerender_ms"]["median"] * 1000 / entries
    cpu_per_1000 = spreads["rerender_cpu_ms"]["median"] * 1000 / entries
    _common.emit(
        {
            "benchmark": "listing_rerender",
            "spec": spec,
            "entries": entries,
            "repeats": args.repeats,
            "iterations": args.iterations,
            **spreads,
            "rerender_ms_per_1000_entries": round(per_1000, 2),
            # The web thread's own CPU time: what a loaded machine's waiting leaves out.
            "rerender_cpu_ms_per_1000_entries": round(cpu_per_1000, 2),
            "cold_over_rerender": round(
                spreads["cold_render_ms"]["median"] / spreads["rerender_ms"]["median"], 2
            ),
            "goal_ms_per_1000_entries": GOAL_MS,
            "met": per_1000 <= GOAL_MS,
        }
    )


if __name__ == "__main__":
    main()
