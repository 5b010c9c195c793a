"""The mirror's background work, as threads of one process: worker.run's.

The RQ workers (see worker.threads), RQ's cron scheduler (daily feeds, pending
sweeper), RQ's scheduler of delayed jobs and retries and, with ``--indexer``,
the search index's one writer (see :mod:`papermirror.search.indexer`) each only
wait on Redis most of the time: one process serves them all (bench/memory.py:
a fork parent, two forked RQ workers and a services child took 86 MB PSS; this
one process, with the same threads, takes about a third of that).

This process supervises its threads: a thread that ends (an error it could not
handle, e.g. Redis gone while the indexer opened its index, or RQ's shutdown
command to one worker) is started again after a backoff (1 s doubling to 30 s,
reset after a minute of running). SIGTERM asks each service to stop (a worker
finishes its current job, the indexer its batch), waits for them up to
:data:`STOP_WAIT`, then ends the process. A kill -9 of the process is the
supervisor's to repair (papermirror.supervise).
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
    process waits for it at exit), else forever, in a daemon thread that ends with it.
    ``on_stop``, if any, is called (from the main thread, maybe more than once) to make
    the body notice ``stop`` sooner than it would by itself."""

    name: str
    body: Callable[[threading.Event], object]
    stoppable: bool = False
    on_stop: Callable[[], object] | None = None
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
    waiting = [s for s in services if s.stoppable and s.thread.is_alive()]
    while waiting and time.monotonic() < deadline:
        for service in waiting:
            if service.on_stop:
                # Again at each tick: a worker may have been between two waits the first time.
                service.on_stop()
        waiting[0].thread.join(min(tick, max(0.0, deadline - time.monotonic())))
        waiting = [s for s in waiting if s.thread.is_alive()]
    if waiting:
        log.warning("stopping without waiting longer for %s", ", ".join(s.name for s in waiting))
    return 0
