"""The ``papermirror`` command: ``papermirror up`` runs the whole mirror.

It starts Redis (embedded, unless PAPERMIRROR_REDIS_URL names one), the RQ
workers, RQ's cron scheduler and the gunicorn web server as child processes,
restarts a child that crashes, and stops them all cleanly on Ctrl-C or
SIGTERM. It launches the server and the workers by module name, so it imports
neither. ``fetch``, ``backfill`` and ``import`` live in :mod:`papermirror.commands`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from papermirror import commands, embedded, keys
from papermirror.settings import Settings

log = logging.getLogger("papermirror")

RESTART_LIMIT = 5  # crashes of one child within RESTART_WINDOW before giving up
RESTART_WINDOW = 60.0


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    crashes: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        """Start (or restart) the process in its own session, so Ctrl-C reaches us first."""
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True)
        log.info("started %s (pid %d)", self.name, self.process.pid)


def children(settings: Settings) -> list[Child]:
    """The processes `papermirror up` runs, besides Redis."""
    py = sys.executable
    web = Child(
        "web",
        [
            py,
            "-m",
            "gunicorn",
            "--config",
            "python:server.gunicorn_conf",
            "--bind",
            f"{settings.host}:{settings.port}",
            "--workers",
            str(settings.web_workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(settings.web_threads),
            *(["--access-logfile", settings.access_log] if settings.access_log else []),
            "--graceful-timeout",
            "5",
            "server:create_app()",
        ],
    )
    workers = [
        Child(
            f"worker-{n + 1}",
            [
                py,
                "-m",
                "rq.cli",
                "worker",
                "--with-scheduler",
                # Every minute, not RQ's default ten: requeues the job of a worker that
                # died mid-fetch, and restarts the retry scheduler after a Redis restart.
                "--maintenance-interval",
                "60",
                "--logging_level",
                settings.log_level,
                keys.FETCH_QUEUE,
            ],
        )
        for n in range(settings.workers)
    ]
    # RQ's cron enqueues the daily feed job; worker.schedule sets its clock to US Eastern.
    scheduler = Child(
        "scheduler",
        [
            py,
            "-m",
            "rq.cli",
            "cron",
            "--logging-level",
            settings.log_level,
            "worker.schedule",
        ],
    )
    # The search index's one writer: it follows the stream of written paper ids.
    indexer = Child("indexer", [py, "-m", "papermirror.search.indexer"])
    return [*workers, scheduler, indexer, web]


def up(settings: Settings) -> int:
    """Run the mirror until interrupted; returns the exit code."""
    redis_server = None
    if not settings.redis_url:
        redis_dir = Path(settings.data_dir) / "redis"
        redis_server = embedded.start(redis_dir)
        log.info("embedded Redis on %s, data in %s", redis_server.url, redis_dir)
        settings = Settings.from_env(settings.to_env(), redis_url=redis_server.url)
        # `papermirror fetch`, `backfill` and `import` find this Redis here.
        commands.url_file(settings).write_text(redis_server.url + "\n")
    # rq reads its Redis URL from RQ_REDIS_URL: a password in it stays out of `ps`.
    env = {**os.environ, **settings.to_env(), "RQ_REDIS_URL": settings.redis_url}
    procs = children(settings)
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        for child in procs:
            child.start(env)
        print(
            f"Paper Mirror is up: http://{settings.host}:{settings.port}/  (Ctrl-C stops it)",
            flush=True,
        )
        while not stopping:
            time.sleep(0.2)
            if redis_server and redis_server.process.poll() is not None:
                log.error("embedded Redis exited; stopping")
                code = 1
                break
            for child in procs:
                if child.process.poll() is None or stopping:
                    continue
                if not _may_restart(child):
                    log.error("%s keeps crashing; stopping", child.name)
                    code = 1
                    stopping = True
                    break
                log.warning("%s exited with %s; restarting", child.name, child.process.returncode)
                child.start(env)
    finally:
        _stop_all(procs)
        if redis_server:
            commands.url_file(settings).unlink(missing_ok=True)
            redis_server.stop()
        log.info("stopped")
    return code


def _may_restart(child: Child) -> bool:
    now = time.monotonic()
    child.crashes = [t for t in child.crashes if now - t < RESTART_WINDOW] + [now]
    return len(child.crashes) <= RESTART_LIMIT


def _stop_all(procs: list[Child], timeout: float = 15.0) -> None:
    running = [c for c in procs if c.process and c.process.poll() is None]
    for c in running:
        c.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for c in running:
        try:
            c.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", c.name)
            c.process.kill()
            c.process.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``papermirror`` console script."""
    parser = argparse.ArgumentParser(prog="papermirror", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="run the mirror: Redis, workers and the web server")
    p_up.add_argument("--host", help="address to bind (PAPERMIRROR_HOST)")
    p_up.add_argument("--port", type=int, help="port to bind (PAPERMIRROR_PORT)")
    p_up.add_argument("--workers", type=int, help="RQ workers to run (PAPERMIRROR_WORKERS)")
    commands.add_parsers(sub)
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
    return commands.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
