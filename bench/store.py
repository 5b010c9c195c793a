"""Redis memory per cached paper, over the 1,504 real papers of the all-archives feed.

The papers are parsed from the real 2024 feed fixture and stored with the
mirror's own Store into an empty embedded Redis; the figure is the growth of
Redis' used_memory divided by the number of papers. For scale, the same run
also reports what the records take as plain JSON (no compression).

Goal: at most 1,000 bytes per paper.
Usage: python bench/store.py
"""

from __future__ import annotations

import bz2
import tempfile

import _common
import redis

from papermirror import codec, embedded
from papermirror.feeds import parse_feed
from papermirror.store import Store
from tests.conftest import FIXTURES

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"


def main() -> None:
    """Run the benchmark and print JSON."""
    papers = [a.paper for a in parse_feed(bz2.open(FIXTURES / FEED).read()).items]
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(tmp, appendonly=False)
        try:
            client = redis.Redis.from_url(server.url)
            before = client.info("memory")["used_memory"]
            Store(client).upsert_many(papers)
            after = client.info("memory")["used_memory"]
            stored = client.dbsize()
        finally:
            server.stop()
    blobs = [len(codec.encode(p)) for p in papers]
    plain = [len(codec.serialize(p)) for p in papers]
    per_paper = (after - before) / len(papers)
    _common.emit(
        {
            "benchmark": "store",
            "papers": len(papers),
            "keys": stored,
            "redis_bytes_per_paper": round(per_paper, 1),
            "blob_bytes_mean": round(sum(blobs) / len(blobs), 1),
            "plain_json_bytes_mean": round(sum(plain) / len(plain), 1),
            "goal_bytes_per_paper": 1000,
            "met": per_paper <= 1000,
        }
    )


if __name__ == "__main__":
    main()
