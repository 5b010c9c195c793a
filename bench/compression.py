"""Bytes on the wire: /arxiv/cs.AI (HTML, Atom, JSON) and a paper page, compressed vs plain.

The real 1,504-paper day is stored in an embedded Redis and the pages are
asked for through the app (test client) with each Accept-Encoding, so the
figures are the bytes the mirror sends. The time to compress each page once
into every coding (what the micro-cache does when it caches a page) is
timed too, 3 repeats, min/median/max.
Reported, no goal. Usage: python bench/compression.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time

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
CODINGS = ("identity", "gzip", "zstd", "br")


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    feed = parse_feed(load_fixture(FEED))
    papers = [item.paper for item in feed.items]
    paper = next(p for p in papers if "cs.AI" in p.categories)
    paths = {
        "cs.AI_html": "/arxiv/cs.AI",
        "cs.AI_atom": "/arxiv/cs.AI/feed",
        "cs.AI_json": "/api/listings/cs.AI",
        "cs_html": "/arxiv/cs",
        "paper_html": f"/arxiv/{paper.id}",
    }
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(tmp, appendonly=False)
        try:
            client = redis.Redis.from_url(server.url)
            Store(client).upsert_many(papers)
            terms = sorted({archive_of(c) for p in papers for c in p.categories})
            Listings(client).write_day(feed.date, day_listings(feed, terms))

            from server import compress, create_app

            app = create_app(Settings(redis_url=server.url, page_cache_seconds=60.0))
            web = app.test_client()
            out = {}
            for name, path in paths.items():
                sizes = {}
                for coding in CODINGS:
                    answer = web.get(path, headers={"Accept-Encoding": coding})
                    assert answer.status_code == 200, (path, answer.status_code)
                    assert answer.headers.get("Content-Encoding", "identity") == coding
                    sizes[coding] = len(answer.data)
                plain = web.get(path).data
                times = []
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    compress.variants(plain)
                    times.append((time.perf_counter() - t) * 1000)
                out[name] = {
                    "path": path,
                    "bytes": sizes,
                    "ratio_to_plain": {
                        c: round(sizes[c] / sizes["identity"], 4) for c in CODINGS[1:]
                    },
                    "compress_once_ms": _common.spread(times),
                }
        finally:
            server.stop()
    _common.emit({"benchmark": "compression", "repeats": args.repeats, "pages": out})


if __name__ == "__main__":
    main()
