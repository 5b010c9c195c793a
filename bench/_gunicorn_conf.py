"""gunicorn settings for Paper Mirror's web processes (`gunicorn -c python:server.gunicorn_conf`).

Command-line flags still win, so `papermirror up` and the container pass
bind/workers/threads there and share these hooks.
"""

import gc
import sys

from papermirror.layout import web_processes
from papermirror.settings import Settings

worker_class = "gthread"
# PAPERMIRROR_WEB_WORKERS, 0 meaning one per core: for `papermirror up` and compose alike.
workers = web_processes(Settings.from_env())
# Load the app once, in the master, and fork it: the workers share its memory
# pages instead of each importing Flask and the app again (~15 MB each).
preload_app = True
# Keep-alive connections are cheap for gthread; a short timeout frees threads for busy sites.
keepalive = 5


def pre_fork(server, worker):
    """Before each fork: move what the master loaded out of the collector's reach.

    A collection writes to every object it visits, which copies the page it sits
    on into the worker; frozen objects are never visited, so the pages stay shared.
    """
    app = server.app.wsgi()
    # Compile every template here once, not in each worker on its first request.
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml"))):
        app.jinja_env.get_template(name)
    gc.freeze()


def post_fork(server, worker):
    """Tune each web process for short, latency-bound requests."""
    # Many threads share one GIL: the default 5 ms switch interval lets one busy
    # thread delay the others' quick page answers by whole 5 ms slices.
    sys.setswitchinterval(0.0005)
    # Everything loaded so far lives for the process' lifetime; keep it out of
    # the collector's way so collections stay short.
    gc.freeze()


# --- metrics: prometheus-client's multiprocess mode (see server/metrics.py) ---
# Set before any worker imports prometheus_client, which reads it at import.
# `papermirror up` names a directory under the data dir; elsewhere (the container) a
# fresh one in /tmp. Only when metrics are on: off, nothing is written.
def _metrics_setting() -> str:
    import os

    return os.environ.get("PAPERMIRROR_METRICS", "off").strip().lower()


if _metrics_setting() not in ("", "off", "0", "false", "no"):
    import os as _os
    import tempfile as _tempfile

    _os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", _tempfile.mkdtemp(prefix="papermirror-metrics-")
    )


def on_starting(server):
    """Wipe the multiprocess directory: files of an earlier run would be counted again."""
    import os
    from pathlib import Path

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def when_ready(server):
    """With PAPERMIRROR_METRICS=HOST:PORT, serve /metrics there from the master process."""
    if _metrics_setting() in ("", "off", "0", "false", "no", "on", "1", "true", "yes"):
        return
    from papermirror.settings import Settings
    from server import metrics

    settings = Settings.from_env()
    _, address = metrics.mode(settings)
    metrics.serve(address, settings)


def child_exit(server, worker):
    """Let a dead worker's live gauges go (prometheus-client's documented gunicorn hook)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
