"""Redis memory per cached paper, over the 1,504 real papers of the all-archives feed.

The papers are parsed from the real 2024 feed fixture and stored with the
mirror's own Store into an empty embedded Redis; the figure is the growth of
Redis' used_memory divided by the number of papers. In the same run, as the
baseline, the same papers are stored as the first release stored them (format
1: zstd level 3, 32 KB dictionary, one string key per paper; now: a hundred to a
hash, see papermirror.buckets). For scale it also reports what the
records take as plain JSON. 3 repeats, min/median/max.

Goal: at most 600 bytes per paper.
Usage: python bench/store.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import bz2
import tempfile

import _common
import redis
import zstandard

from papermirror import buckets, codec, embedded, keys
from papermirror.arxiv.feeds import parse_feed
from papermirror.store import Store
from tests.conftest import FIXTURES

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
GOAL = 600


def format1(papers) -> dict[str, bytes]:
    """The first release's blobs (format 1), by key."""
    d = zstandard.ZstdCompressionDict(codec.DICT_PATH.read_bytes())
    c = zstandard.ZstdCompressor(dict_data=d, level=3, write_content_size=True)
    return {
        keys.legacy_paper(p.id): bytes((codec.FORMAT_ZSTD_DICT,)) + c.compress(codec.serialize(p))
        for p in papers
    }


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    papers = [a.paper for a in parse_feed(bz2.open(FIXTURES / FEED).read()).items]
    old_blobs = format1(papers)
    now, old = [], []
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(tmp, appendonly=False)
        try:
            client = redis.Redis.from_url(server.url)
            for _ in range(args.repeats):
                for figures, write, stored in (
                    (now, lambda: Store(client).upsert_many(papers), buckets.count),
                    (old, lambda: client.mset(old_blobs), lambda c: c.dbsize()),
                ):
                    client.flushall()
                    before = client.info("memory")["used_memory"]
                    write()
                    after = client.info("memory")["used_memory"]
                    assert stored(client) == len(papers)
                    figures.append((after - before) / len(papers))
        finally:
            server.stop()
    blobs = [len(codec.encode(p)) for p in papers]
    plain = [len(codec.serialize(p)) for p in papers]
    median = _common.spread(now)["median"]
    _common.emit(
        {
            "benchmark": "store",
            "papers": len(papers),
            "repeats": args.repeats,
            "redis_bytes_per_paper": _common.spread(now),
            "format1_redis_bytes_per_paper": _common.spread(old),
            "ratio_to_format1": _common.spread(n / o for n, o in zip(now, old, strict=True)),
            "blob_bytes_mean": round(sum(blobs) / len(blobs), 1),
            "format1_blob_bytes_mean": round(sum(map(len, old_blobs.values())) / len(old_blobs), 1),
            "plain_json_bytes_mean": round(sum(plain) / len(plain), 1),
            "goal_bytes_per_paper": GOAL,
            "met": median <= GOAL,
        }
    )


if __name__ == "__main__":
    main()
