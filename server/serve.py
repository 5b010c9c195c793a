"""The web server: Paper Mirror's Flask app under granian, for `papermirror up` and the container.

``python -m server.serve [--bind HOST:PORT] [--access-log PATH]`` reads every
other knob from the ``PAPERMIRROR_*`` settings, so `papermirror up`, the compose
stack and the image run one command. granian (a Rust HTTP server) served the
cached page at 4.3-5.0x gunicorn gthread's requests/s with the same processes
and threads, in 2 MB less (bench/servers.py). What gunicorn's hooks did, this does:

* **preload**, with two workers or more: the app is built once, its templates
  compiled, in the main process, and ``gc.freeze()`` moves it out of the
  collector's reach; granian then forks its workers, which share those pages
  instead of importing it all again (and a collection never writes to, so
  never copies, them). A lone worker builds the app itself, and compiles each
  template at its first use;
* **each worker**, as it starts: a short GIL switch interval, ``gc.freeze()``,
  death with the main process (no orphan holds the port after a kill -9), and
  prometheus-client's ``mark_process_dead`` for workers that are gone;
* **proxy headers**: only peers in ``PAPERMIRROR_FORWARDED_ALLOW_IPS`` may set
  the client address and scheme (``X-Forwarded-For``, ``X-Forwarded-Proto``;
  see :mod:`server.proxies`);
* **SIGTERM**: granian stops accepting and lets requests in flight finish;
  workers still busy after ``PAPERMIRROR_WEB_STOP_TIMEOUT`` seconds are killed.
  A worker that dies is started again (granian's respawn).
"""

from __future__ import annotations

import argparse
import copy
import gc
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from papermirror.layout import web_processes
from papermirror.settings import Settings

_SUMMARY = "Paper Mirror's web server (granian), configured by PAPERMIRROR_* settings."
_app = None  # the WSGI app, built in the main process before granian forks its workers
_MAIN_PID = "_PAPERMIRROR_WEB_MAIN_PID"  # in the environment: also read by spawned workers


def build_app(settings: Settings, compile_templates: bool = True):
    """The mirror's Flask app, behind the trusted proxies' headers; with
    ``compile_templates``, every template compiled now rather than at its first use."""
    from server import create_app

    app = create_app(settings)
    if compile_templates:
        # Compile every template once here, not in each worker on its first request.
        names = app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml")))
        for name in names:
            app.jinja_env.get_template(name)
    if settings.forwarded_allow_ips.strip():
        from server.proxies import BehindProxy

        # Outermost, so the micro-cache (which keys on the scheme) sees the proxy's.
        app.wsgi_app = BehindProxy(app.wsgi_app, settings.forwarded_allow_ips)
    return app


def worker_app():
    """Run in each granian worker right after the fork: tune it, then hand over the app."""
    from papermirror.supervise import die_with_parent

    # Many threads share one GIL: the default 5 ms switch interval lets one busy
    # thread delay the others' quick page answers by whole 5 ms slices.
    sys.setswitchinterval(0.0005)
    # SIGKILL, not SIGTERM: a SIGTERM that lands before granian's worker starts
    # waiting for it is lost, and the orphan then serves on, holding the port (seen
    # in about 1 run in 25 on a loaded machine). With its main process gone, no
    # one is left to hand a graceful stop to anyway.
    die_with_parent(signal.SIGKILL)
    if os.getppid() != int(os.environ.get(_MAIN_PID, os.getppid())):
        # The main process died between the fork and the line above: no signal will
        # ever come, and an orphan would hold the port. Leave now.
        os._exit(1)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # set only with metrics on (metrics_dir)
        from server import metrics

        metrics.forget_dead_processes()
    global _app
    if _app is None:  # one worker: built here, not preloaded (see main)
        # Its templates are compiled at their first use, as Jinja does: compiled
        # up front, the 24 of them take 2.6 MB, some for pages few ever open
        # (the operator's, the extension's, the FAQ's). Preloaded, they are compiled
        # once for every worker to share.
        _app = build_app(Settings.from_env(), compile_templates=False)
    gc.freeze()
    return _app


def metrics_dir(settings: Settings) -> None:
    """With metrics on, prometheus-client's multiprocess directory, emptied: files of an
    earlier run would be counted again. Set before anything imports prometheus_client."""
    if not settings.metrics_on:
        return
    # `papermirror up` names one under the data dir; elsewhere (the container) a fresh one.
    directory = os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="papermirror-metrics-")
    )
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob("*.db"):
        stale.unlink()


def log_config(access_log: str) -> dict:
    """granian's logging, with its access log on the console (``-``) or in a file."""
    from granian.log import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    if access_log and access_log != "-":
        config["handlers"]["access"] = {
            "formatter": "access",
            "class": "logging.FileHandler",
            "filename": access_log,
        }
    return {"handlers": config["handlers"], "loggers": config["loggers"]}


def server(settings: Settings, host: str, port: int, access_log: str):
    """The granian server for the app, sized like `papermirror up` (see papermirror.layout)."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    return Server(
        "server.serve:worker_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=web_processes(settings),
        # A first visit holds a thread while it waits for arXiv; idle ones end after 30 s.
        blocking_threads=settings.web_threads,
        websockets=False,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=log_config(access_log),
        log_access=bool(access_log),
        respawn_failed_workers=True,
        respawn_interval=1.0,
        workers_kill_timeout=max(1, settings.web_stop_timeout),
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    global _app
    parser = argparse.ArgumentParser(prog="python -m server.serve", description=_SUMMARY)
    parser.add_argument("--bind", help="HOST:PORT (default PAPERMIRROR_HOST:PAPERMIRROR_PORT)")
    parser.add_argument("--access-log", help="'-', a file, or '' (PAPERMIRROR_ACCESS_LOG)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    host, port = settings.host, settings.port
    if args.bind:
        host, _, raw_port = args.bind.rpartition(":")
        host, port = host.strip("[]"), int(raw_port)
    access_log = settings.access_log if args.access_log is None else args.access_log
    metrics_dir(settings)
    if web_processes(settings) > 1:
        # Preload only pays with two workers or more (PSS, bench/servers.py): 85 MB
        # against 111 MB without it for two; with one, the main process would hold a
        # second copy of what the worker touches (+2 MB).
        _app = build_app(settings)
    kind, address = settings.metrics_mode()
    if kind == "listen":
        from server import metrics  # not otherwise: it imports Flask and RQ (~7 MB here)

        metrics.serve(address, settings)  # a thread of this main process, never a worker
    web = server(settings, host, port, access_log)
    # granian warns of more than 2 x cores + 1 threads; ours mostly wait (first visits).
    logging.getLogger("_granian").addFilter(
        lambda record: not record.getMessage().startswith("Configuration allows spawning")
    )
    os.environ[_MAIN_PID] = str(os.getpid())
    gc.freeze()  # last thing before the fork: see the module's docstring
    web.serve(target_loader=worker_app, wrap_loader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
