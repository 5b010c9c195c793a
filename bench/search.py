"""Search: index rate, index size, query and related latency, and freshness.

Each round starts an empty Redis and an empty index with the real indexer
(``python -m papermirror.search.indexer``, its own process with its default
settings, as ``papermirror up`` runs it) following the search stream, imports a
synthetic snapshot (``bench/import_snapshot.py``'s: the fixture papers cycled
under new ids) with ``papermirror.history.import_snapshot``, and times until
the index holds every record (index rate, from the import's start). The same
round's baseline is tantivy alone: the same papers' documents, built in memory
beforehand, added to an empty index with the indexer's heap and threads and
committed once (``tantivy_alone_per_second``); ``index_to_tantivy`` is the
ratio, how close the pipeline comes to the engine on this machine. Then, through
real HTTP to the mirror's web server as `papermirror up` runs it (granian, ``python -m
server.serve``; one keep-alive connection, one request at a time):
200 realistic queries on ``/api/search`` against 200 requests for a cached
paper page, 200 ``/api/papers/<id>/related``, and 10 writes timed until a
search finds them. Figures are min/median/max over the rounds. The query's baseline, in the
same round: tantivy alone (``tantivy_query_*``), the same 200 searches as the engine's own
queries built beforehand, run in process for the first page and its total, no HTTP, no
Redis, no snippets; ``tantivy_query_to_page_p95`` is how far the engine alone is from the
page, a floor for ``query_to_page_p95``.

Goals: index >= 10,000 papers/s; <= 500 bytes per paper on disk; query p95 <= 3x the
cached page's p95; related p95 <= 50 ms; freshness <= 5 s.
Usage: python bench/search.py [--records N] [--rounds N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import _common
import redis
from _search_queries import queries, tantivy_queries, timed
from import_snapshot import fixture_records, write_snapshot

from papermirror import buckets, embedded
from papermirror.arxiv.snapshot import iter_snapshot
from papermirror.history import import_snapshot
from papermirror.records import Paper
from papermirror.search import parse
from papermirror.search.indexer import WRITER_THREADS
from papermirror.search.tantivy_engine import TantivyEngine
from papermirror.search.tantivy_schema import document, open_index
from papermirror.store import Store
from tests.stack import stack_settings


class Web:
    """The mirror's web server as `papermirror up` runs it (granian, ``python -m server.serve``,
    sized and configured by the same settings), and a keep-alive client for it."""

    def __init__(self, settings):
        port = embedded.free_port()
        env = {**os.environ, **settings.to_env()}
        argv = [sys.executable, "-m", "server.serve", "--bind", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(
            argv, env=env, cwd=_common.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                self.conn.close()
                time.sleep(0.2)

    def get(self, path: str, query_string: dict | None = None) -> Reply:
        if query_string:
            path += "?" + urlencode(query_string)
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        return Reply(resp.status, resp.read())

    def close(self) -> None:
        self.conn.close()
        self.proc.terminate()
        self.proc.wait(10)


@dataclass
class Reply:
    status_code: int
    data: bytes

    def get_json(self):
        return json.loads(self.data)


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def tantivy_alone(tmp: Path, docs: list, heap: int, threads: int) -> float:
    """Papers per second of tantivy alone: prebuilt documents into an empty index, one commit."""
    index = open_index(tmp / "alone", create=True)
    started = time.perf_counter()
    writer = index.writer(heap, threads)
    for doc in docs:
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    return len(docs) / (time.perf_counter() - started)


def start_indexer(settings) -> subprocess.Popen:
    env = {**os.environ, **settings.to_env()}
    argv = [sys.executable, "-m", "papermirror.search.indexer"]
    return subprocess.Popen(argv, env=env, cwd=_common.ROOT, stdout=subprocess.DEVNULL)


def one_round(tmp: Path, snapshot: Path, records: list[dict], docs: list, rng) -> dict:
    server = embedded.start(tmp / "redis", appendonly=False)
    indexer = None
    try:
        client = redis.Redis.from_url(server.url)
        client.flushall()
        index = tmp / "index"
        settings = stack_settings(server.url, "http://127.0.0.1:9/api", search_dir=str(index))
        alone = tantivy_alone(tmp, docs, settings.search_writer_heap, WRITER_THREADS)
        indexer = start_indexer(settings)
        engine = TantivyEngine(index)
        while not (index / "meta.json").exists():  # the empty index, before the clock starts
            time.sleep(0.05)
        started = time.perf_counter()
        report = import_snapshot(client, snapshot)
        import_seconds = time.perf_counter() - started
        while True:
            engine.refresh()
            if engine.count() >= report.added:
                break
            time.sleep(0.05)
        index_seconds = time.perf_counter() - started
        disk = sum(f.stat().st_size for f in index.iterdir() if f.is_file())
        web = Web(settings)
        ids = list(buckets.ids(client))
        ids = rng.sample(ids, 200)
        page_id = ids[0]
        for _ in range(3):  # warm: cached from now on (a first answer may be slow)
            try:
                assert web.get(f"/arxiv/{page_id}").status_code == 200
                break
            except OSError:
                web.conn.close()
                time.sleep(2)
        qs = queries(records, 220, rng)
        # Warm the searcher's caches with 20 other queries, unmeasured, as for the page:
        # the 200 measured ones are each asked once, first time.
        qs, warm = qs[:200], qs[200:]
        for params in warm:
            web.get("/api/search", query_string=params)

        def search(params):
            resp = web.get("/api/search", query_string=params)
            assert resp.status_code == 200, (params, resp.get_json())

        search_ms = timed(search, qs)
        page_ms = timed(lambda _: web.get(f"/arxiv/{page_id}"), range(200))
        # After the measured ones, so the engine's caches favour the baseline, not the API.
        alone_ms = tantivy_queries(index, qs)
        related_ms = timed(lambda i: web.get(f"/api/papers/{i}/related"), ids)
        fresh = []
        for n in range(10):
            paper_id = f"2999.{n + 1:05d}"
            word = f"freshword{n}x"
            t = time.perf_counter()
            Store(client).upsert(Paper(id=paper_id, version=1, title=f"Fresh {word}"))
            while True:
                engine.refresh()
                if engine.search(parse(word)).total:
                    break
                time.sleep(0.01)
            fresh.append(time.perf_counter() - t)
        web.close()
        return {
            "index_per_second": report.added / index_seconds,
            "tantivy_alone_per_second": alone,
            "index_to_tantivy": report.added / index_seconds / alone,
            "import_per_second": report.added / import_seconds,
            "index_after_import_s": index_seconds - import_seconds,
            "bytes_per_paper": disk / report.added,
            "query_p50_ms": percentile(search_ms, 50),
            "query_p95_ms": percentile(search_ms, 95),
            "page_p50_ms": percentile(page_ms, 50),
            "page_p95_ms": percentile(page_ms, 95),
            "query_to_page_p95": percentile(search_ms, 95) / percentile(page_ms, 95),
            "tantivy_query_p50_ms": percentile(alone_ms, 50),
            "tantivy_query_p95_ms": percentile(alone_ms, 95),
            "tantivy_query_to_page_p95": percentile(alone_ms, 95) / percentile(page_ms, 95),
            "related_p50_ms": percentile(related_ms, 50),
            "related_p95_ms": percentile(related_ms, 95),
            "freshness_median_s": statistics.median(fresh),
            "freshness_max_s": max(fresh),
        }
    finally:
        if indexer is not None:
            indexer.terminate()
            indexer.wait(60)
        server.stop()


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(11)
    records = fixture_records()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / "snapshot.jsonl"
        write_snapshot(snapshot, records, args.records)
        docs = [document(p) for p in iter_snapshot(snapshot)]  # the baseline's, built once
        for n in range(args.rounds):
            round_dir = Path(tmp) / f"round{n}"
            round_dir.mkdir()
            rounds.append(one_round(round_dir, snapshot, records, docs, rng))
            print(json.dumps({"round": n, **rounds[-1]}), file=sys.stderr, flush=True)
    result = {"benchmark": "search", "records": args.records, "rounds": args.rounds}
    for name in rounds[0]:
        values = [r[name] for r in rounds]
        result[name] = {
            "min": round(min(values), 3),
            "median": round(statistics.median(values), 3),
            "max": round(max(values), 3),
        }
    result["goals"] = {
        "index_per_second_at_least": 10_000,
        "bytes_per_paper_at_most": 500,
        "query_to_page_p95_at_most": 3.0,
        "related_p95_ms_at_most": 50,
        "freshness_s_at_most": 5,
    }
    _common.emit(result)


if __name__ == "__main__":
    main()
