"""The ``papermirror`` command: ``papermirror up`` runs the whole mirror.

It starts Redis (embedded, unless PAPERMIRROR_REDIS_URL names one), the RQ
workers (threads of one process, which also runs RQ's schedulers and the search
indexer) and the granian web server as child processes, keeps them alive (see
:mod:`papermirror.supervise`), and stops them all cleanly on Ctrl-C or SIGTERM. It
launches the server and the workers by module name, forked from itself after
loading what they share (:func:`preload`), so it imports neither. ``fetch``, ``backfill``,
``import``, ``backup`` and ``restore`` live in :mod:`papermirror.commands`.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
from pathlib import Path

from papermirror import embedded, keys
from papermirror.layout import rq_workers
from papermirror.settings import Settings
from papermirror.supervise import Child, Supervisor, die_with_parent

log = logging.getLogger("papermirror")

# RQ's worker class for the fetch workers: no fork per job, a kept-alive arXiv session
# and the jobs' code loaded before the first job (see worker.warm, bench/worker_class.py).
WORKER_CLASS = "worker.warm.WarmWorker"


def children(settings: Settings) -> list[Child]:
    """The processes `papermirror up` runs, besides Redis, in start order.

    Add a process here (model workers); a thread that needs no process of its
    own belongs in one of these (see worker.services: cron, indexer).
    """
    py = sys.executable
    # granian (see server.serve), sized and configured by the same settings as compose's.
    web = Child(
        "web",
        [
            py,
            "-m",
            "server.serve",
            "--bind",
            f"{settings.host}:{settings.port}",
            "--access-log",
            settings.access_log,
        ],
    )
    # One process runs, in threads, the RQ workers, RQ's cron scheduler (daily feeds,
    # pending sweeper) and job scheduler, and the search index's one writer, the
    # indexer (see worker.run, worker.services, worker.threads).
    workers = Child(
        "workers",
        [
            py,
            "-m",
            "worker.run",
            "--cron",
            "--indexer",
            "--workers",
            str(rq_workers(settings)),
            "--worker-class",
            WORKER_CLASS,
            # Every minute, not RQ's default ten: requeues the job of a worker that
            # died mid-fetch, and restarts the retry scheduler after a Redis restart.
            "--maintenance-interval",
            "60",
            "--logging-level",
            settings.log_level,
            keys.FETCH_QUEUE,
        ],
    )
    return [workers, *faq_workers(settings), web]


def embedded_redis(settings: Settings) -> tuple[Child, str]:
    """Start the embedded Redis; a Child that restarts it on its port and data dir."""
    redis_dir = Path(settings.data_dir) / "redis"
    server = embedded.start(
        redis_dir,
        maxmemory=settings.redis_maxmemory,
        preexec_fn=die_with_parent,
        # The web server binds its port only later: Redis must not take it first.
        avoid_ports=(settings.port,),
    )
    log.info("embedded Redis on %s, data in %s", server.url, redis_dir)
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])

    def launch():
        # Same port, so every client reconnects by itself; same dir, so it reloads its AOF.
        # Not waiting for it: loading a large AOF takes a while, and the supervisor
        # must stay responsive (Ctrl-C); it watches the process and pings Redis.
        return embedded.start(
            redis_dir,
            port=port,
            maxmemory=settings.redis_maxmemory,
            wait=False,
            preexec_fn=die_with_parent,
        ).process

    child = Child("redis", [], needs_redis=False, process=server.process, launch=launch)
    return child, server.url


def faq_workers(settings: Settings) -> list[Child]:
    """The LLM workers of the paper FAQ: none unless a model is configured."""
    if not settings.faq_enabled:
        return []
    # Queues in priority order: a reader's click, today's papers, the backlog.
    argv = [sys.executable, "-m", "rq.cli", "worker"]
    argv += ["--logging_level", settings.log_level, *keys.FAQ_QUEUES]
    return [Child(f"faq-worker-{n + 1}", argv) for n in range(max(1, settings.llm_concurrency))]


# Modules every Python child uses: imported once here, shared by the forked children.
# redis-py is ~8 MB in each; more (rq, zstandard, the store) measured no better
# (bench/memory.py: 110.5 MB with redis-py, 114.4 with none, 111.9 with those).
PRELOAD = ("redis",)


def preload() -> None:
    """Import :data:`PRELOAD`, then keep the collector off all this process holds: forked
    from here (papermirror.forked), the children share those pages with it."""
    import gc
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    gc.freeze()


def up(settings: Settings) -> int:
    """Run the mirror until interrupted; returns the exit code."""
    from papermirror import commands  # not at the top: the supervisor stays small

    procs: list[Child] = []
    if not settings.redis_url and (running := commands.running_url(settings)):
        # A second Redis on the same files would corrupt them.
        print(
            f"a mirror already runs on {settings.data_dir} (its Redis answers at {running});"
            " stop it first",
            file=sys.stderr,
        )
        return 1
    if not settings.redis_url:
        redis_child, url = embedded_redis(settings)
        procs.append(redis_child)
        settings = Settings.from_env(settings.to_env(), redis_url=url)

    url_path = commands.url_file(settings)
    if procs:
        # `papermirror fetch`, `backfill` and `import` find this Redis here.
        url_path.write_text(settings.redis_url + "\n")
    # rq reads its Redis URL from RQ_REDIS_URL: a password in it stays out of `ps`.
    env = {**os.environ, **settings.to_env(), "RQ_REDIS_URL": settings.redis_url}
    env.update(_metrics_env(settings))
    procs.extend(children(settings))
    preload()
    supervisor = Supervisor(procs, env, lambda: embedded.ping(settings.redis_url))
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGTERM, supervisor.stop)

    def announce():
        print(
            f"Paper Mirror is up: http://{settings.host}:{settings.port}/  (Ctrl-C stops it)",
            flush=True,
        )

    try:
        return supervisor.run(on_started=announce)
    finally:
        if procs and not procs[0].needs_redis:
            url_path.unlink(missing_ok=True)
        log.info("stopped")


def status(settings: Settings, as_json: bool = False) -> int:
    """Print the operator report (see server.opsreport, run as a child: it needs RQ)."""
    import subprocess

    from papermirror import commands

    with commands.connect(settings) as url:
        env = {**os.environ, **settings.to_env(), "PAPERMIRROR_REDIS_URL": url}
        argv = [sys.executable, "-m", "server.opsreport", *(["--json"] if as_json else [])]
        return subprocess.run(argv, env=env, check=False).returncode


def _metrics_env(settings: Settings) -> dict[str, str]:
    """prometheus-client's multiprocess directory for the web workers, wiped at each start."""
    if not settings.metrics_on:
        return {}
    directory = Path(settings.data_dir) / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return {"PROMETHEUS_MULTIPROC_DIR": str(directory)}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``papermirror`` console script."""
    parser = argparse.ArgumentParser(prog="papermirror", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="run the mirror: Redis, workers and the web server")
    p_up.add_argument("--host", help="address to bind (PAPERMIRROR_HOST)")
    p_up.add_argument("--port", type=int, help="port to bind (PAPERMIRROR_PORT)")
    p_up.add_argument("--workers", type=int, help="RQ workers to run (PAPERMIRROR_WORKERS)")
    from papermirror import commands

    commands.add_parsers(sub)
    p_status = sub.add_parser("status", help="what the operator page shows, in the terminal")
    p_status.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    overrides = {
        k: v for k in ("host", "port", "workers") if (v := getattr(args, k, None)) is not None
    }
    try:
        settings = Settings.from_env(**overrides)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s: %(message)s")
    if args.command == "up":
        return up(settings)
    if args.command == "status":
        return status(settings, args.json)
    return commands.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
