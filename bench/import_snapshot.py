"""Import: records per second from a metadata snapshot into Redis, and Redis bytes per paper.

The snapshot is written in arXiv's format from the fixture papers: the 46
records of the real arXiv-format OAI page and the 1,504 of the real
all-archives feed, each line given a new id so that every line is a different
paper (``--records``, default 120,000). The 2014 arXivRaw page is left out on
purpose: the record codec's zstd dictionary was trained on it, and bytes per
paper would be flattered. Each round imports
it into an empty Redis with ``papermirror.history.import_snapshot``.

Goals: at least 20,000 records/s; at most 600 bytes of Redis memory per
paper (INFO used_memory after the import, minus before, over papers).
The baseline, in the same run: each round imports once more with the search
stream's ids stored plain, as before they were compressed (issue 9).
Usage: python bench/import_snapshot.py [--records N] [--rounds N] [--no-baseline]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import _common
import redis

from papermirror import embedded
from papermirror.arxiv.feeds import parse_feed
from papermirror.history import import_snapshot
from papermirror.search import announce as announce_mod
from tests.replay import load_fixture
from tests.test_snapshot import snapshot_records

CS_PAGE = "oai2016_listrecords_arXiv_set_cs_from2015-01-16_until2015-01-18.xml"
FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"


def fixture_records() -> list[dict]:
    """Snapshot-format dicts for every fixture paper, with ``authors_parsed`` as arXiv writes it."""
    records = snapshot_records(load_fixture(CS_PAGE))
    for item in parse_feed(load_fixture(FEED)).items:
        p = item.paper
        records.append(
            {
                "id": p.id,
                "submitter": None,
                "title": p.title,
                "comments": None,
                "journal-ref": p.journal_ref,
                "doi": p.doi,
                "report-no": None,
                "categories": " ".join(p.categories),
                "license": p.license,
                "abstract": p.abstract,
                "authors": ", ".join(a.name for a in p.authors),
                "versions": [
                    {"version": f"v{n}", "created": "Mon, 25 Nov 2024 18:00:00 GMT"}
                    for n in range(1, p.version + 1)
                ],
                "update_date": "2024-11-28",
            }
        )
    for r in records:
        if "authors_parsed" not in r:
            names = [a.strip() for a in (r["authors"] or "").replace(" and ", ", ").split(",")]
            r["authors_parsed"] = [
                [*reversed(n.rsplit(" ", 1)), ""] if " " in n else [n, "", ""] for n in names if n
            ]
    return records


def write_snapshot(path: Path, records: list[dict], count: int) -> None:
    """``count`` lines cycling through ``records``, each with its own new-style id."""
    with path.open("w") as out:
        for n in range(count):
            r = dict(records[n % len(records)])
            r["id"] = f"{2001 + n // 99999:04d}.{n % 99999 + 1:05d}"
            out.write(json.dumps(r) + "\n")


def one_import(client: redis.Redis, path: Path, plain_stream: bool = False) -> tuple[float, float]:
    """Import into an emptied Redis: (records per second, Redis bytes per paper)."""
    client.flushall()
    before = client.info("memory")["used_memory"]
    saved = announce_mod.COMPRESS_OVER
    if plain_stream:  # the stream as it was: every id as text
        announce_mod.COMPRESS_OVER = 1 << 62
    try:
        report = import_snapshot(client, path)
    finally:
        announce_mod.COMPRESS_OVER = saved
    used = client.info("memory")["used_memory"] - before
    return report.papers / report.seconds, used / report.papers


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=120_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.jsonl"
        write_snapshot(path, fixture_records(), args.records)
        size = path.stat().st_size
        server = embedded.start(Path(tmp) / "redis", appendonly=False)
        try:
            client = redis.Redis.from_url(server.url)
            rates, per_paper, plain_rates, plain_per_paper = [], [], [], []
            for _ in range(args.rounds):
                if not args.no_baseline:
                    rate, used = one_import(client, path, plain_stream=True)
                    plain_rates.append(rate)
                    plain_per_paper.append(used)
                rate, used = one_import(client, path)
                rates.append(rate)
                per_paper.append(used)
            rerun = import_snapshot(client, path)
            report = rerun
        finally:
            server.stop()
    _common.emit(
        {
            "benchmark": "import_snapshot",
            "records": args.records,
            "file_bytes": size,
            "papers": report.papers,
            "bad_lines": report.bad,
            "rounds": args.rounds,
            "records_per_second_median": round(statistics.median(rates)),
            "records_per_second_best": round(max(rates)),
            "rerun_records_per_second": round(rerun.papers / rerun.seconds),
            "rerun_unchanged": rerun.unchanged,
            "redis_bytes_per_paper": round(statistics.median(per_paper), 1),
            "records_per_second": _common.spread(rates),
            "redis_bytes_per_paper_spread": _common.spread(per_paper),
            **(
                {}
                if args.no_baseline
                else {
                    "baseline_plain_stream_records_per_second": _common.spread(plain_rates),
                    "baseline_plain_stream_redis_bytes_per_paper": _common.spread(plain_per_paper),
                }
            ),
            "goal_records_per_second_at_least": 20_000,
            "goal_bytes_per_paper_at_most": 600,
        }
    )


if __name__ == "__main__":
    main()
