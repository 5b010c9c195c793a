"""The RQ workers of a mirror: ``python -m worker.run [--cron] [--indexer] [--workers N] QUEUE``.

`papermirror up` runs ``--cron --indexer --workers N``: one process whose
threads are N RQ workers (see worker.threads), RQ's cron scheduler (daily feeds,
pending sweeper), RQ's scheduler of delayed jobs and retries and the search
indexer, each restarted when it ends (see worker.services). Each only waits on
Redis most of the time: a thread serves it as well as a process of its own, for
less memory, and every job shares one kept-alive arXiv session. Exactly one
process of a mirror may run the cron scheduler, and one per index the indexer:
compose, which scales workers by container, keeps separate ``rq cron`` and
``indexer`` services and runs ``python -m worker.run QUEUE`` (one worker, in the
main thread, with RQ's own signal handling) per replica.

It also makes the worker patient with Redis: it waits for Redis before it
starts, and caps RQ's reconnect backoff, so a worker that outlived a Redis
outage picks up jobs within seconds of Redis coming back.

The worker class is :data:`WORKER_CLASS` unless ``--worker-class`` names another.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import uuid

import redis
from rq.cron import CronScheduler
from rq.scheduler import RQScheduler
from rq.utils import import_attribute

from papermirror import buckets, codec, malloc
from papermirror.settings import Settings
from worker import services as services_mod
from worker.services import Service
from worker.threads import threaded

log = logging.getLogger("worker.run")

WORKER_CLASS = "rq.worker.Worker"
CRON_CONFIG = "worker.schedule"
# RQ's own cap is 60 s between reconnects: too long for "whole within 10 s".
RECONNECT_CAP = 2.0


class ThreadCron(CronScheduler):
    """RQ's cron scheduler, run in a thread: the main thread owns the signals."""

    def _install_signal_handlers(self):
        pass


def cron_forever(cron: CronScheduler, pause: float = 1.0) -> None:
    """Run ``cron`` until the process ends, starting it over after a Redis error."""
    while True:
        try:
            cron.start()
            return
        except redis.RedisError as exc:
            log.warning("cron scheduler lost Redis (%s); starting over", exc)
            time.sleep(pause)


def cron_service(client: redis.Redis, logging_level: str) -> Service:
    """worker.schedule's jobs, run by RQ's cron scheduler (a new one at each restart)."""

    def body(_stop):
        cron = ThreadCron(connection=client, logging_level=logging_level)
        cron.load_config_from_file(CRON_CONFIG)
        cron_forever(cron)

    return Service("rq-cron", body)


class ThreadScheduler(RQScheduler):
    """RQ's scheduler of delayed jobs and retries, run in a thread instead of a forked process."""

    def _install_signal_handlers(self):
        pass


def scheduler_forever(scheduler: RQScheduler, pause: float = 1.0) -> None:
    """Run ``scheduler`` until the process ends, starting it over after a Redis error."""
    while True:
        try:
            scheduler.work()
            return
        except redis.RedisError as exc:
            log.warning("job scheduler lost Redis (%s); starting over", exc)
            scheduler.lock_acquisition_time = None  # take the queue locks again
            scheduler._acquired_locks = set()
            time.sleep(pause)


def scheduler_service(client: redis.Redis, queues: list[str], logging_level: str) -> Service:
    """RQ's scheduler (delayed jobs, retries) for ``queues``."""

    def body(_stop):
        scheduler = ThreadScheduler(queues, connection=client, logging_level=logging_level)
        scheduler_forever(scheduler)

    return Service("rq-scheduler", body)


def indexer_service() -> Service:
    """The search indexer, until SIGTERM (it finishes its batch)."""

    def body(stop):
        from papermirror.search.indexer import follow

        follow(Settings.from_env(redis_url=redis_url()), stop)

    return Service("indexer", body, stoppable=True)


def worker_service(args: argparse.Namespace, number: int) -> Service:
    """One RQ worker, in a thread: a new one (new name, new client) at each restart."""
    worker_class = threaded(import_attribute(args.worker_class))
    current = {}

    def body(stop):
        name = uuid.uuid4().hex
        # Named after the worker, so that a stop can wake it (worker.threads.unblock).
        client = redis.Redis.from_url(redis_url(), client_name=name)
        wait_for_redis(client, stop=stop)
        if stop.is_set():
            return
        worker = worker_class(args.queues, name=name, connection=client, **worker_options(args))
        worker.max_connection_wait_time = RECONNECT_CAP
        current["worker"] = worker
        if not stop.is_set():
            worker.work(with_scheduler=False, logging_level=args.logging_level)

    def on_stop():
        if worker := current.get("worker"):
            worker.stop()

    return Service(f"rq-worker-{number}", body, stoppable=True, on_stop=on_stop)


def run_threads(args: argparse.Namespace) -> int:
    """The workers and the services, as threads of this process, until SIGTERM."""
    client = redis.Redis.from_url(redis_url())
    services = [worker_service(args, n + 1) for n in range(max(1, args.workers))]
    if args.cron:
        services.append(cron_service(client, args.logging_level))
        services.append(scheduler_service(client, args.queues, args.logging_level))
    if args.indexer:
        services.append(indexer_service())
    return services_mod.run(services)


def wait_for_redis(client: redis.Redis, pause: float = 0.5, stop=None) -> None:
    """Block until Redis answers (or ``stop``, an Event, is set): a worker started
    during an outage waits, not crashes."""
    warned = False
    while not (stop and stop.is_set()):
        try:
            client.ping()
            return
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
            if not warned:
                log.warning("waiting for Redis: %s", exc)
                warned = True
            time.sleep(pause)


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m worker.run", description=__doc__.splitlines()[0])
    p.add_argument("queues", nargs="+", metavar="QUEUE")
    p.add_argument("--cron", action="store_true", help="also run the cron scheduler")
    p.add_argument(
        "--indexer", action="store_true", help="also run the search indexer (one per index)"
    )
    p.add_argument(
        "--workers", type=int, default=1, help="RQ workers, threads of this process (default 1)"
    )
    p.add_argument("--worker-class", default=WORKER_CLASS)
    p.add_argument("--maintenance-interval", type=int, default=60)
    p.add_argument("--worker-ttl", type=int, default=None)
    p.add_argument("--logging-level", default="INFO")
    return p.parse_args(argv)


def redis_url() -> str:
    """Where Redis is: RQ_REDIS_URL (keeps a password out of argv), else the settings."""
    return os.environ.get("RQ_REDIS_URL") or Settings.from_env().redis_address


def worker_options(args: argparse.Namespace) -> dict:
    """The worker class's options from the command line."""
    options = {"maintenance_interval": args.maintenance_interval}
    if args.worker_ttl:
        options["worker_ttl"] = args.worker_ttl
    return options


def run_worker(args: argparse.Namespace) -> int:
    """One RQ worker in the main thread, with its scheduler, until SIGTERM or an error it
    cannot handle."""
    client = redis.Redis.from_url(redis_url())
    wait_for_redis(client)
    worker = import_attribute(args.worker_class)(
        args.queues, connection=client, **worker_options(args)
    )
    worker.max_connection_wait_time = RECONNECT_CAP
    worker.work(with_scheduler=True, logging_level=args.logging_level)
    # work() also returns after an error it could not handle; exit non-zero so it
    # is restarted, unless it was asked to stop.
    return 0 if worker._stop_requested else 1


def migrate_records() -> None:
    """Move records an older release kept one per key into buckets (see papermirror.buckets).

    Every worker start does it: it is idempotent, safe beside other writers, and a
    quick SCAN when there is nothing to move.
    """
    client = redis.Redis.from_url(redis_url())
    wait_for_redis(client)
    moved = buckets.migrate(client)
    if moved:
        log.info("moved %d paper records into buckets", moved)


def main(argv: list[str] | None = None) -> int:
    """Run the worker(s), and the services with ``--cron``/``--indexer``, until SIGTERM."""
    args = parse(argv)
    logging.basicConfig(level=args.logging_level, format="%(asctime)s %(name)s: %(message)s")
    migrate_records()
    # When the trim after a job comes, drop the record compressor's tables too: ~4.4 MB
    # an idle worker would hold for its next write (see papermirror.codec).
    malloc.before_trim(codec.forget_compressors)
    if args.workers <= 1 and not (args.cron or args.indexer):
        return run_worker(args)
    # With --cron, RQ's job scheduler runs in a thread of its own, not in each worker.
    return run_threads(args)


if __name__ == "__main__":
    sys.exit(main())
