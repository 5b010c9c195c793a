"""Prometheus ``/metrics``: the web tier's own counters plus what Redis knows, at scrape time.

``PAPERMIRROR_METRICS`` chooses where it answers (see ``Settings.metrics_mode``):

* ``off`` (the default): nowhere, and requests are not even timed;
* ``on``: ``/metrics`` on the web port, for loopback clients only (a scraper
  on the same host, or through an SSH tunnel); anyone else gets a 404;
* ``HOST:PORT``: a separate listener, started by the web server's main
  process (``server/serve.py``), so the web port never serves it.

In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, as granian's
workers are) the in-process metrics of every worker are summed from that
directory; the live gauges of workers that are gone are dropped when a
worker starts and at each scrape (:func:`forget_dead_processes`).
:class:`RedisCollector` adds, at each scrape, the shared counters of
:mod:`papermirror.metrics` and the gauges Redis holds: pending ids, RQ queue
lengths and failed jobs, workers, and the age of each followed listing.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import time
from datetime import datetime

import redis
from flask import Blueprint, Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from rq import Queue, Worker

from papermirror import keys, metrics
from papermirror.categories import follow_terms
from papermirror.clock import EASTERN
from papermirror.settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class RedisCollector:
    """Metrics read from Redis when scraped (so every web process reports the same values)."""

    def __init__(self, client: redis.Redis, settings: Settings):
        self.redis = client
        self.settings = settings

    def collect(self):
        """Yield the metric families (``redis_up`` 0 and nothing else while Redis is away)."""
        try:
            families = list(self._collect())
        except redis.RedisError as exc:
            log.warning("metrics: Redis not answering: %s", exc)
            families = []
        up = GaugeMetricFamily("papermirror_redis_up", "Whether Redis answered this scrape")
        up.add_metric([], 1 if families else 0)
        yield up
        yield from families

    def _collect(self):
        for shared in metrics.SHARED:
            yield _family(shared, shared.read(self.redis))
        name = metrics.NAMESPACE
        pending = GaugeMetricFamily(
            f"{name}_pending_ids", "Paper ids waiting for a first-visit fetch"
        )
        pending.add_metric([], self.redis.zcard(keys.PENDING))
        yield pending
        length = GaugeMetricFamily(
            f"{name}_rq_queue_length", "Jobs waiting, per RQ queue", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            f"{name}_rq_failed_jobs",
            "Jobs in the failed-job registry, per RQ queue",
            labels=["queue"],
        )
        scheduled = GaugeMetricFamily(
            f"{name}_rq_scheduled_jobs",
            "Jobs scheduled for later (retries, daily retries), per RQ queue",
            labels=["queue"],
        )
        names = {q.name for q in Queue.all(connection=self.redis)} | {keys.FETCH_QUEUE}
        for queue_name in sorted(names):
            queue = Queue(queue_name, connection=self.redis)
            length.add_metric([queue_name], queue.count)
            failed.add_metric([queue_name], queue.failed_job_registry.count)
            scheduled.add_metric([queue_name], queue.scheduled_job_registry.count)
        yield from (length, failed, scheduled)
        workers = GaugeMetricFamily(f"{name}_rq_workers", "RQ workers registered in Redis")
        workers.add_metric([], Worker.count(connection=self.redis))
        yield workers
        yield self._listing_age()

    def _listing_age(self):
        age = GaugeMetricFamily(
            f"{metrics.NAMESPACE}_listing_newest_age_seconds",
            "Seconds since the newest stored announcement day of each followed category began "
            "(midnight US Eastern); absent for a category never fetched",
            labels=["category"],
        )
        terms, _ = follow_terms(self.settings.categories)
        with self.redis.pipeline(transaction=False) as pipe:
            for term in terms:
                pipe.zrevrange(keys.listing_dates(term), 0, 0)
            newest = pipe.execute()
        now = time.time()
        for term, found in zip(terms, newest, strict=True):
            if found:
                day = datetime.fromisoformat(found[0].decode()).replace(tzinfo=EASTERN)
                age.add_metric([term], max(0.0, now - day.timestamp()))
        return age


def _family(shared: metrics.Shared, values: dict):
    name = f"{metrics.NAMESPACE}_{shared.name}"
    labels = list(shared.labels)
    if shared.kind == "counter":
        family = CounterMetricFamily(name, shared.doc, labels=labels)
        for label_values, entry in sorted(values.items()):
            family.add_metric(list(label_values), entry["value"])
        return family
    family = HistogramMetricFamily(name, shared.doc, labels=labels)
    for label_values, entry in sorted(values.items()):
        running, buckets = 0, []
        for le in (*shared.buckets, float("inf")):
            running += entry["buckets"].get(float(le), 0)
            buckets.append(("+Inf" if le == float("inf") else str(float(le)), running))
        family.add_metric(list(label_values), buckets, entry["sum"])
    return family


_PID_FILE = re.compile(r"_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_processes(directory: str | None = None) -> list[int]:
    """``mark_process_dead`` for every process with a file in the multiprocess directory
    that no longer runs (a worker killed or respawned); returns their pids.

    gunicorn did this on each worker's exit; granian has no such hook, so a new
    worker and each scrape do it. Counters and histograms of dead workers stay:
    what they counted still happened.
    """
    directory = directory or os.environ.get(MULTIPROC_ENV)
    if not directory:
        return []
    from prometheus_client import multiprocess

    try:
        names = os.listdir(directory)
    except OSError:
        return []
    pids = {int(m.group(1)) for n in names if (m := _PID_FILE.search(n))}
    dead = sorted(pid for pid in pids if not _alive(pid))
    for pid in dead:
        multiprocess.mark_process_dead(pid, directory)
    return dead


def exposition(client: redis.Redis, settings: Settings) -> bytes:
    """The whole /metrics text: every web process's metrics, then Redis's."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        forget_dead_processes()
        local = CollectorRegistry()
        multiprocess.MultiProcessCollector(local)
    else:
        local = REGISTRY
    shared = CollectorRegistry(auto_describe=False)
    shared.register(RedisCollector(client, settings))
    return generate_latest(local) + generate_latest(shared)


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%")[0]).is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics_page():
    """The Prometheus text exposition, for loopback clients only (``PAPERMIRROR_METRICS=on``)."""
    # A reverse proxy on the same host makes every client look local: a forwarded
    # request is someone else's, whatever its address.
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    if forwarded or not _is_loopback(request.remote_addr):
        abort(404)
    from server.services import services

    svc = services()
    return Response(exposition(svc.redis, svc.settings), mimetype=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count(resp: Response) -> Response:
    started = g.pop("metrics_started", None)
    rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    metrics.HTTP_REQUESTS.labels(rule, request.method, str(resp.status_code)).inc()
    if started is not None:
        metrics.HTTP_LATENCY.labels(rule).observe(time.perf_counter() - started)
    return resp


def init_app(app: Flask) -> None:
    """Time and count requests, and serve /metrics on the web port, as the setting says."""
    kind, _ = app.config["SETTINGS"].metrics_mode()
    if kind == "off":
        return
    app.before_request(_start_timer)
    app.after_request(_count)
    if kind == "on":
        app.register_blueprint(bp)


def serve(address: tuple[str, int], settings: Settings) -> None:
    """Start the separate ``HOST:PORT`` listener in a daemon thread (the server's main process)."""
    from prometheus_client import start_http_server

    client = redis.Redis.from_url(
        settings.redis_address, socket_timeout=5, socket_connect_timeout=2
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Everything(client, settings))
    start_http_server(address[1], addr=address[0], registry=registry)
    log.info("metrics on http://%s:%d/metrics", *address)


class _Everything:
    """The web processes' multiprocess metrics and Redis's, as one collector."""

    def __init__(self, client: redis.Redis, settings: Settings):
        self.redis_collector = RedisCollector(client, settings)

    def collect(self):
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            forget_dead_processes()
            yield from multiprocess.MultiProcessCollector(None).collect()
        yield from self.redis_collector.collect()
