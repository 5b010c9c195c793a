"""Every Prometheus metric Paper Mirror reports, defined in one place.

Two kinds, by where they are counted:

* **In-process** metrics (``prometheus_client`` objects) for the web tier:
  requests, latency, page-cache hits. The web server's workers share them
  through prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``,
  set up by ``server/serve.py`` and ``papermirror up``).
* **Shared** metrics (:class:`Shared`), kept as counters in a Redis hash, for
  what RQ's work horses do: each job runs in a fresh fork that lives seconds,
  and prometheus-client's multiprocess mode would leave one file per job
  behind. A Redis ``HINCRBY`` per arXiv request costs nothing next to arXiv's
  3 s interval, and every web process reports the same totals.

Gauges that Redis already knows (pending ids, queue lengths, failed jobs, the
newest listing) are read when scraped, by ``server.metrics``'s collector.

To add a metric: define it below (an entry of ``_IN_PROCESS``, a prometheus-client
object made at its first use, if the web tier counts it, a :class:`Shared` one if a
worker does) and call it where the event
happens. Shared metrics are exported by the collector with no further code.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import redis

from papermirror import keys

log = logging.getLogger(__name__)

NAMESPACE = "papermirror"
_SEP = "\x1f"  # joins label values in a hash field; cannot occur in a route or category

# --- in-process: the web tier ---------------------------------------------------------
# Every in-process metric has labels, so that a process creates no multiprocess file
# until a value is actually counted. Each is created at its first use (module
# __getattr__): prometheus-client costs a process ~2 MB, and the workers, which count
# only shared metrics, never load it.
_IN_PROCESS = {
    "HTTP_REQUESTS": (
        "Counter",
        "http_requests",
        "HTTP requests answered, by route (the URL rule), method and status",
        ["route", "method", "status"],
        {},
    ),
    "HTTP_LATENCY": (
        "Histogram",
        "http_request_duration_seconds",
        "Time to answer an HTTP request, by route",
        ["route"],
        {"buckets": (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)},
    ),
    "PAGE_CACHE": (
        "Counter",
        "page_cache_lookups",
        "Lookups in a web process's cache of rendered pages, by cache and result (hit, miss)",
        ["cache", "result"],
        {},
    ),
    "FIRST_VISITS": (
        "Counter",
        "first_visit_ids",
        "Paper ids queued for a fetch by a visit, new (never stored) or refresh (newer version)",
        ["kind"],
        {},
    ),
}
_creating = threading.Lock()


class _Uncounted:
    """Stands in for an in-process metric while metrics are off: counts nothing, loads nothing."""

    def labels(self, *_labels, **_named) -> _Uncounted:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


UNCOUNTED = _Uncounted()


def __getattr__(name: str):
    """The in-process metric ``name``, created (once) at its first use."""
    spec = _IN_PROCESS.get(name)
    if spec is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _creating:
        if name not in globals():
            import prometheus_client

            kind, metric, doc, labels, options = spec
            cls = getattr(prometheus_client, kind)
            globals()[name] = cls(metric, doc, labels, namespace=NAMESPACE, **options)
    return globals()[name]


# --- shared: counted in Redis ----------------------------------------------------------
@dataclass(frozen=True)
class Shared:
    """A counter or histogram kept in one Redis hash, so every process adds to the same one."""

    name: str
    doc: str
    kind: str = "counter"  # or "histogram"
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    @property
    def key(self) -> str:
        """The Redis hash holding this metric's values."""
        return keys.metric(self.name)

    def inc(self, client: redis.Redis, amount: float = 1, **labels: str) -> None:
        """Add ``amount`` to the counter for these label values (never raises)."""
        _safely(self, lambda: client.hincrbyfloat(self.key, self._field(labels), amount))

    def observe(self, client: redis.Redis, value: float, **labels: str) -> None:
        """Count one observation in the histogram (never raises)."""
        base = self._field(labels)
        le = next((b for b in self.buckets if value <= b), float("inf"))

        def write():
            with client.pipeline(transaction=False) as pipe:
                pipe.hincrby(self.key, f"{base}{_SEP}b{_SEP}{le}", 1)
                pipe.hincrbyfloat(self.key, f"{base}{_SEP}sum", value)
                pipe.hincrby(self.key, f"{base}{_SEP}count", 1)
                pipe.execute()

        _safely(self, write)

    def _field(self, labels: dict[str, str]) -> str:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {sorted(labels)}")
        return _SEP.join(str(labels[n]).replace(_SEP, " ") for n in self.labels)

    def read(self, client: redis.Redis) -> dict[tuple[str, ...], dict]:
        """Label values -> {"value"} for a counter, {"buckets", "sum", "count"} for a histogram."""
        out: dict[tuple[str, ...], dict] = {}
        n = len(self.labels)
        for raw_field, raw_value in client.hgetall(self.key).items():
            parts = raw_field.decode().split(_SEP)
            # Without labels the field still starts with the (empty) label part.
            values, rest = tuple(parts[:n]), parts[max(n, 1) :]
            entry = out.setdefault(values, {"value": 0.0, "buckets": {}, "sum": 0.0, "count": 0})
            number = float(raw_value)
            if self.kind == "counter":
                entry["value"] = number
            elif rest[0] == "b":
                entry["buckets"][float(rest[1])] = int(number)
            elif rest[0] == "sum":
                entry["sum"] = number
            else:
                entry["count"] = int(number)
        return out


def _safely(metric: Shared, write) -> None:
    # A metric must never fail the fetch it describes (Redis may be away for a moment).
    try:
        write()
    except redis.RedisError as exc:
        log.debug("metric %s not recorded: %s", metric.name, exc)


ARXIV_REQUESTS = Shared(
    "arxiv_requests",
    "Requests sent to arXiv, by endpoint (api, rss, oai, other) and outcome "
    "(ok, http_NNN, rejected, timeout, connection, error)",
    labels=("endpoint", "outcome"),
)
LIMITER_WAIT = Shared(
    "arxiv_limiter_wait_seconds",
    "Time a request waited for its slot in the global arXiv limiter",
    kind="histogram",
    buckets=(0.01, 0.1, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300),
)
FETCH_BATCH = Shared(
    "fetch_batch_size",
    "Paper ids per batched first-visit fetch (one arXiv API request each)",
    kind="histogram",
    buckets=(1, 2, 5, 10, 20, 50, 100),
)
FEED_FETCHES = Shared(
    "feed_fetches",
    "Daily feed fetch outcomes, by followed category and status (ok, empty, stale, error)",
    labels=("category", "status"),
)

SHARED: tuple[Shared, ...] = (ARXIV_REQUESTS, LIMITER_WAIT, FETCH_BATCH, FEED_FETCHES)
"""Every shared metric; the scrape-time collector exports each of them."""


def endpoint_of(url: str) -> str:
    """A short, bounded label for an arXiv URL: ``api``, ``rss``, ``oai`` or ``other``."""
    lowered = url.lower()
    if "/api/" in lowered or lowered.rstrip("/").endswith("/api/query"):
        return "api"
    if "rss" in lowered:
        return "rss"
    if "oai" in lowered:
        return "oai"
    return "other"


def arxiv_request(client: redis.Redis, url: str, outcome: str, waited: float | None) -> None:
    """Count one request to arXiv and, if it got a slot, how long it waited for it."""
    ARXIV_REQUESTS.inc(client, endpoint=endpoint_of(url), outcome=outcome)
    if waited is not None:
        LIMITER_WAIT.observe(client, waited)


def feed_outcomes(client: redis.Redis, outcomes) -> None:
    """Count each term's outcome of a daily fetch (objects or dicts with term and status)."""
    for o in outcomes:
        term = o["term"] if isinstance(o, dict) else o.term
        status = o["status"] if isinstance(o, dict) else o.status
        FEED_FETCHES.inc(client, category=term, status=status)
