"""The metric definitions and the scrape-time collector, on a real Redis (no server processes)."""

from __future__ import annotations

import os

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from papermirror import keys, metrics
from papermirror.store import Store
from server import create_app
from server.metrics import RedisCollector
from tests.stack import stack_settings


def parsed(client, settings) -> dict:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(client, settings))
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_shared_counters_and_histograms_round_trip(redis_client):
    settings = stack_settings("redis://unused", "http://127.0.0.1:9/api")
    metrics.arxiv_request(redis_client, "https://export.arxiv.org/api/query", "ok", 0.2)
    metrics.arxiv_request(redis_client, "https://export.arxiv.org/api/query", "ok", 4.0)
    metrics.arxiv_request(redis_client, "https://rss.arxiv.org/rss/cs.AI", "http_503", None)
    metrics.FETCH_BATCH.observe(redis_client, 3)
    metrics.feed_outcomes(redis_client, [{"term": "cs.AI", "status": "error"}])
    got = parsed(redis_client, settings)
    name = "papermirror_arxiv_requests_total"
    assert got[(name, (("endpoint", "api"), ("outcome", "ok")))] == 2
    assert got[(name, (("endpoint", "rss"), ("outcome", "http_503")))] == 1
    wait = "papermirror_arxiv_limiter_wait_seconds"
    assert got[(f"{wait}_count", ())] == 2
    assert got[(f"{wait}_sum", ())] == pytest.approx(4.2)
    assert got[(f"{wait}_bucket", (("le", "0.5"),))] == 1
    assert got[(f"{wait}_bucket", (("le", "5.0"),))] == 2
    assert got[(f"{wait}_bucket", (("le", "+Inf"),))] == 2
    assert got[("papermirror_fetch_batch_size_bucket", (("le", "5.0"),))] == 1
    feed = "papermirror_feed_fetches_total"
    assert got[(feed, (("category", "cs.AI"), ("status", "error")))] == 1


def test_gauges_are_read_at_scrape_time(redis_client):
    settings = stack_settings("redis://unused", "http://127.0.0.1:9/api", categories=("cs.AI",))
    Store(redis_client).add_pending(["2101.00001", "2101.00002"])
    Queue(keys.FETCH_QUEUE, connection=redis_client).enqueue("json.loads", "1")
    redis_client.zadd(keys.listing_dates("cs.AI"), {"2026-01-05": 20260105})
    got = parsed(redis_client, settings)
    assert got[("papermirror_pending_ids", ())] == 2
    assert got[("papermirror_rq_queue_length", (("queue", keys.FETCH_QUEUE),))] == 1
    assert got[("papermirror_rq_failed_jobs", (("queue", keys.FETCH_QUEUE),))] == 0
    assert got[("papermirror_listing_newest_age_seconds", (("category", "cs.AI"),))] > 86400
    assert got[("papermirror_redis_up", ())] == 1


def test_redis_away_is_a_gauge_not_an_error():
    settings = stack_settings("redis://127.0.0.1:1/0", "http://127.0.0.1:9/api")
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    got = parsed(client, settings)
    assert got == {("papermirror_redis_up", ()): 0}
    # And a worker's metric call never raises either.
    metrics.FETCH_BATCH.observe(client, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("off", ("off", None)), ("", ("off", None)), ("on", ("on", None)),
     ("127.0.0.1:9100", ("listen", ("127.0.0.1", 9100))), (":9100", ("listen", ("0.0.0.0", 9100))),
     ("[::1]:9100", ("listen", ("::1", 9100)))],
)  # fmt: skip
def test_metrics_setting(text, expected):
    assert stack_settings("redis://x", "http://x", metrics=text).metrics_mode() == expected


@pytest.mark.parametrize("text", ["maybe", "host:", "host:port"])
def test_bad_metrics_setting_is_refused(text):
    with pytest.raises(ValueError):
        stack_settings("redis://x", "http://x", metrics=text).metrics_mode()


def test_metrics_endpoint_is_loopback_only_and_absent_when_off(redis_url):
    on = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", metrics="on"))
    client = on.test_client()
    assert client.get("/metrics").status_code == 200
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 404
    assert client.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 404
    off = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api"))
    assert off.test_client().get("/metrics").status_code == 404
    far = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", metrics="127.0.0.1:1"))
    assert far.test_client().get("/metrics").status_code == 404


def test_papermirror_up_wipes_the_multiprocess_dir(tmp_path):
    from papermirror.cli import _metrics_env

    stale = tmp_path / "metrics" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old run")
    env = _metrics_env(
        stack_settings("redis://x", "http://x", metrics="on", data_dir=str(tmp_path))
    )
    assert env == {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    assert not stale.exists() and stale.parent.is_dir()
    assert _metrics_env(stack_settings("redis://x", "http://x", data_dir=str(tmp_path))) == {}


def test_web_server_wipes_at_start_and_forgets_dead_workers(tmp_path, monkeypatch):
    import subprocess
    import sys

    from server import metrics
    from server.serve import metrics_dir

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_1.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    metrics_dir(stack_settings("redis://x", "http://x", metrics="on"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    # A worker that is gone (a real process that ran and exited), and this live one.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead, alive = int(gone.stdout), os.getpid()
    for pid in (dead, alive):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    assert metrics.forget_dead_processes() == [dead]
    left = sorted(p.name for p in tmp_path.iterdir())
    # Its live gauge goes; what it counted stays, as prometheus-client's multiprocess mode wants.
    assert left == sorted(
        ["keep.txt", f"counter_{dead}.db", f"counter_{alive}.db", f"gauge_livesum_{alive}.db"]
    )
    assert metrics.forget_dead_processes() == [dead]  # idempotent: nothing more to drop
    assert sorted(p.name for p in tmp_path.iterdir()) == left
