"""Settings, read from the environment (prefix ``PAPERMIRROR_``).

:class:`Settings` holds every setting and its default; the server, the workers,
the CLI and the README's settings table all read it. The arXiv clients' and the
FAQ's settings are declared in their packages (``arxiv/settings.py``,
``faq/settings.py``) and inherited here.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from papermirror.arxiv.settings import ArxivSettings
from papermirror.faq.settings import FaqSettings

PREFIX = "PAPERMIRROR_"

DEFAULT_CATEGORIES = ("cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML")


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "papermirror")


@dataclass(frozen=True)
class Settings(ArxivSettings, FaqSettings):
    """Every knob of Paper Mirror; the field docs make the README's settings table."""

    redis_url: str = field(
        default="",
        metadata={
            "doc": "Redis URL; empty: `papermirror up` starts an embedded Redis under the data dir"
        },
    )
    data_dir: str = field(
        default_factory=_default_data_dir,
        metadata={"doc": "where the embedded Redis keeps its data"},
    )
    host: str = field(default="127.0.0.1", metadata={"doc": "address the web server binds"})
    port: int = field(default=8000, metadata={"doc": "port the web server binds"})
    web_workers: int = field(
        default=0, metadata={"doc": "web server worker processes; 0: one per two cores, 1 to 4"}
    )
    web_threads: int = field(
        default=128,
        metadata={
            "doc": "threads per web server worker; a first visit holds one while it "
            "waits for arXiv, so this bounds how many first visits batch together"
        },
    )
    workers: int = field(
        default=2,
        metadata={"doc": "RQ workers (`papermirror up`: threads of one process)"},
    )
    fetch_wait: float = field(
        default=8.0,
        metadata={
            "doc": "longest a first visit waits for its paper before it answers 202 with a page "
            "that says why and shows the paper as soon as it lands (keep it under 10)"
        },
    )
    coalesce_window: float = field(
        default=0.0,
        metadata={
            "doc": "seconds a fetch job waits for more first visits to batch into one request"
        },
    )
    missing_ttl: int = field(
        default=6 * 3600,
        metadata={"doc": "seconds an id arXiv does not know is remembered as missing"},
    )
    error_ttl: int = field(
        default=60,
        metadata={"doc": "seconds a failed fetch is reported before the next visit tries again"},
    )
    page_cache_seconds: float = field(
        default=1.0,
        metadata={
            "doc": "seconds a web process reuses a rendered paper page before it "
            "re-reads the record from Redis (0: every request reads Redis)"
        },
    )
    access_log: str = field(
        default="",
        metadata={
            "doc": "where the web server writes its access log under `papermirror up`: "
            "'-' for the console, a file path, or empty for none (faster)"
        },
    )
    mathjax_url: str = field(
        default="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js",
        metadata={
            "doc": "MathJax 3 script (a CDN) used when PAPERMIRROR_MATH_RENDERER is `mathjax`"
        },
    )
    categories: tuple[str, ...] = field(
        default=DEFAULT_CATEGORIES,
        metadata={"doc": "categories the daily job follows, comma-separated"},
    )
    daily_time: str = field(
        default="00:30",
        metadata={
            "doc": "when the daily job fetches the followed categories, HH:MM US Eastern, "
            "Monday to Friday (arXiv rebuilds its feeds at midnight Eastern)"
        },
    )
    daily_retries: int = field(
        default=4,
        metadata={
            "doc": "retries of the daily job while a feed still shows the previous day "
            "or arXiv is unreachable"
        },
    )
    daily_retry_delay: float = field(
        default=600.0,
        metadata={
            "doc": "seconds before the daily job's first retry; each next one waits twice as long"
        },
    )
    log_level: str = field(default="INFO", metadata={"doc": "log level of every process"})
    # --- listings on demand ---
    follow_visited_days: int = field(
        default=7,
        metadata={
            "doc": "days a category that is not in PAPERMIRROR_CATEGORIES stays followed "
            "(fetched daily) after a reader last opened its listing; 0: fetched only on visits"
        },
    )
    # --- surface ---
    math_renderer: str = field(
        default="katex",
        metadata={
            "doc": "how readers' browsers typeset TeX math in titles and abstracts: `katex` "
            "(bundled, served by the mirror: no third-party request), `mathjax` (the "
            "script at PAPERMIRROR_MATHJAX_URL), or `off` (TeX as typed)"
        },
    )
    # --- supervise ---
    redis_maxmemory: str = field(
        default="2gb",
        metadata={
            "doc": "Redis `maxmemory` (with `noeviction`: a full Redis refuses writes and "
            "loses nothing); `auto` is half the machine's memory (embedded Redis only)"
        },
    )
    sweep_interval: int = field(
        default=15,
        metadata={"doc": "seconds between two checks for pending first visits without a job"},
    )
    sweep_after: int = field(
        default=30,
        metadata={
            "doc": "seconds a first visit may wait before the sweeper gives it a new fetch job"
        },
    )
    # --- operations ---
    metrics: str = field(
        default="off",
        metadata={
            "doc": "Prometheus metrics: `off`; `on`: /metrics on the web port, for loopback "
            "clients only; `HOST:PORT`: a separate listener (e.g. `0.0.0.0:9100`)"
        },
    )
    admin_token: str = field(
        default="",
        metadata={
            "doc": "token that opens /admin (the operator page) and its actions; "
            "empty: /admin does not exist"
        },
    )
    # --- limiter ---
    fetch_max_pending: int = field(
        default=5000, metadata={"doc": "ids waiting for a first-visit fetch, at most, overall"}
    )
    fetch_max_pending_per_client: int = field(
        default=200, metadata={"doc": "ids waiting for a first-visit fetch, at most, per client"}
    )
    fetch_fair_share: int = field(
        default=3,
        metadata={
            "doc": "pending ids per client that go ahead of every client's backlog "
            "(a lone visitor's paper is never stuck behind a bulk requester)"
        },
    )

    # --- hotpath ---
    micro_cache_mb: int = field(
        default=32,
        metadata={
            "doc": "MB of cached pages (every coding) each web process answers from memory; "
            "0 turns the micro-cache off"
        },
    )
    stale_seconds: float = field(
        default=3600.0,
        metadata={
            "doc": "seconds a cached page may still be served, stale, while Redis "
            "or the app fails (503)"
        },
    )
    # --- search ---
    search_dir: str = field(
        default="",
        metadata={
            "doc": "where the search index lives (one per host, shared by its web processes "
            "and its indexer); empty: `search` under the data dir"
        },
    )
    search_commit_delay: float = field(
        default=1.0,
        metadata={
            "doc": "seconds the indexer gathers written papers before it commits them "
            "(how far search may lag behind a write)"
        },
    )
    search_writer_heap: int = field(
        default=64_000_000,
        metadata={"doc": "bytes of memory the indexer's tantivy writer may use per batch"},
    )
    # --- web server ---
    forwarded_allow_ips: str = field(
        default="127.0.0.1,::1",
        metadata={
            "doc": "addresses or networks (comma-separated; `*`: any) whose X-Forwarded-For and "
            "X-Forwarded-Proto the web server believes: a reverse proxy's, so links say https"
        },
    )
    web_stop_timeout: int = field(
        default=5,
        metadata={
            "doc": "seconds the web server lets requests in flight finish when it stops, "
            "before it kills its workers"
        },
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Build settings from ``PAPERMIRROR_*`` variables; ``overrides`` win over both."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            # An empty value means "empty" for text and lists (MATHJAX_URL= turns
            # MathJax off); a number cannot be empty, so there it means the default.
            if raw is not None and (raw != "" or f.type == "str" or f.type.startswith("tuple")):
                values[f.name] = _parse(f.type, raw, f.name)
        values.update(overrides)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The ``PAPERMIRROR_*`` variables that reproduce these settings in a child process."""
        env = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = ",".join(value)
            env[PREFIX + f.name.upper()] = str(value)
        return env

    @property
    def metrics_on(self) -> bool:
        """Whether ``metrics`` asks for metrics; only then does the web tier load prometheus."""
        return self.metrics.strip().lower() not in ("", "off", "0", "false", "no")

    def metrics_mode(self) -> tuple[str, tuple[str, int] | None]:
        """``("off"|"on"|"listen", (host, port) or None)`` from ``metrics``; else ValueError."""
        if not self.metrics_on:
            return "off", None
        if self.metrics.strip().lower() in ("on", "1", "true", "yes"):
            return "on", None
        host, sep, port = self.metrics.strip().rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"PAPERMIRROR_METRICS={self.metrics!r}: use off, on or HOST:PORT")
        return "listen", (host.strip("[]") or "0.0.0.0", int(port))

    @property
    def redis_address(self) -> str:
        """The Redis to connect to: the configured URL, else Redis' default local address."""
        return self.redis_url or "redis://127.0.0.1:6379/0"


def _parse(type_name: str, raw: str, name: str):
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name.startswith("tuple"):
            if raw.lstrip().startswith("["):
                return tuple(str(x) for x in json.loads(raw))
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{PREFIX}{name.upper()}={raw!r}: {exc}") from None
    return raw
