"""The mirror's background services, as threads of one forked child of worker.run.

RQ's cron scheduler (daily feeds, pending sweeper), RQ's scheduler of delayed
jobs and retries and, with ``--indexer``, the search index's one writer (see
:mod:`papermirror.search.indexer`) each only wait on Redis most of the time: one
process serves them all (bench/memory.py: the indexer's own process took 37 MB
PSS; this child, with the indexer and both schedulers, takes 27 MB). They run
in a child of the fork pool, not in its parent, because the parent forks again
whenever a worker dies, and a fork copies a running thread's locks but not the
thread (see worker.pool).

This process supervises its threads: a thread that ends (an error it could not
handle, e.g. Redis gone while the indexer opened its index) is started again
after a backoff (1 s doubling to 30 s, reset after a minute of running). SIGTERM
stops the indexer after its current batch, then the process.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from papermirror import malloc

log = logging.getLogger("worker.services")

BACKOFF_FIRST, BACKOFF_CAP, HEALTHY_AFTER = 1.0, 30.0, 60.0
STOP_WAIT = 20.0  # seconds a service may take to finish after SIGTERM (an index commit)


@dataclass
class Service:
    """One service: ``body(stop)`` runs until ``stop`` is set when ``stoppable`` (the
    process waits for it at exit), else forever, in a daemon thread that ends with it."""

    name: str
    body: Callable[[threading.Event], object]
    stoppable: bool = False
    thread: threading.Thread | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None

    def start(self, stop: threading.Event, now: float) -> None:
        """Start (or restart) the service's thread."""

        def run():
            try:
                self.body(stop)
            except BaseException:  # noqa: BLE001 - logged here; the loop restarts it
                log.exception("%s failed", self.name)

        self.thread = threading.Thread(target=run, name=self.name, daemon=True)
        self.thread.start()
        self.started, self.restart_at = now, None
        log.info("started %s", self.name)

    def ended_at(self, now: float) -> float:
        """Note that the thread ended; returns the backoff before it starts again."""
        self.failures = 1 if now - self.started >= HEALTHY_AFTER else self.failures + 1
        delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (self.failures - 1))
        self.restart_at = now + delay
        return delay


def run(services: list[Service], tick: float = 0.5) -> int:
    """Run ``services`` in threads, restarting any that ends, until SIGTERM/SIGINT."""
    # Threads that mostly wait need no arena each; tantivy's writer threads would
    # otherwise leave ~5 MB in a new one at every commit (see papermirror.malloc).
    malloc.cap_arenas(1)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    for service in services:
        service.start(stop, time.monotonic())
    while not stop.wait(tick):
        now = time.monotonic()
        for service in services:
            if service.restart_at is None and not service.thread.is_alive():
                delay = service.ended_at(now)
                log.warning("%s ended; starting it again in %.0f s", service.name, delay)
            if service.restart_at is not None and now >= service.restart_at:
                service.start(stop, now)
    deadline = time.monotonic() + STOP_WAIT
    for service in services:
        if service.stoppable:
            service.thread.join(max(0.0, deadline - time.monotonic()))
    return 0
