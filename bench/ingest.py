"""Ingest: the real 1,504-item all-archives feed, from bytes to stored papers and listings.

Each round times ``feedparser.parse`` of the feed's bytes alone, with the
options the mirror passes it (sanitising off: the baseline is like for like),
then the mirror's whole path on an empty Redis: ``parse_feed`` (which includes
feedparser), the upserts and every covered category's listing. Rounds
alternate, so both see the same machine; the medians are compared. For
reference it also times feedparser with its default options.

Goal: ingest at most 1.5x the bare feedparser time.
Usage: python bench/ingest.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import _common
import feedparser
import redis

from papermirror import buckets, embedded
from papermirror.arxiv.feeds import parse_feed
from papermirror.daily import store_day
from papermirror.listings import Listings
from papermirror.store import Store
from tests.replay import load_fixture

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
TERMS = (
    "astro-ph cond-mat physics quant-ph math cs econ eess gr-qc hep-ex hep-lat hep-ph hep-th "
    "math-ph nlin nucl-ex nucl-th q-bio q-fin stat"
).split()


def ingest(client: redis.Redis, body: bytes) -> int:
    """Bytes to stored listings; returns how many category listings were written."""
    feed = parse_feed(body)
    return len(store_day(Store(client), Listings(client), feed, TERMS))


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    body = load_fixture(FEED)
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(tmp, appendonly=False)
        try:
            client = redis.Redis.from_url(server.url)
            bare, default, full, rerun = [], [], [], []
            for _ in range(rounds):
                client.flushall()
                t = time.perf_counter()
                feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
                bare.append(time.perf_counter() - t)
                t = time.perf_counter()
                feedparser.parse(body)
                default.append(time.perf_counter() - t)
                t = time.perf_counter()
                categories = ingest(client, body)
                full.append(time.perf_counter() - t)
                # The same day again: every record exists, so each is merged and compared.
                t = time.perf_counter()
                ingest(client, body)
                rerun.append(time.perf_counter() - t)
            papers = buckets.count(client)
        finally:
            server.stop()
    med = statistics.median
    _common.emit(
        {
            "benchmark": "ingest",
            "items": 1504,
            "papers_stored": papers,
            "category_listings": categories,
            "rounds": rounds,
            "feedparser_seconds": round(med(bare), 3),
            "feedparser_default_options_seconds": round(med(default), 3),
            "ingest_seconds": round(med(full), 3),
            "reingest_seconds": round(med(rerun), 3),
            "ratio": round(med(full) / med(bare), 3),
            "reingest_ratio": round(med(rerun) / med(bare), 3),
            "goal_ratio_at_most": 1.5,
            "met": med(full) / med(bare) <= 1.5,
        }
    )


if __name__ == "__main__":
    main()
