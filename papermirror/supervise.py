"""The supervisor behind `papermirror up`: keep every child alive for the mirror's whole life.

A child that exits is started again after an exponential backoff (1 s, 2 s,
4 s … capped at 30 s), reset once it has run for a minute; the supervisor never
gives up on a child. The embedded Redis is a child like the others, restarted
on the same port and data dir, so it reloads its append-only file and every
client finds it where it was. A child that needs Redis and exited while Redis
was away is restarted as soon as Redis answers again, not at the end of its
backoff: the mirror must be whole within seconds of Redis coming back.
A ``python -m MODULE`` child is a fork of the supervisor (:mod:`papermirror.forked`),
which shares its memory; any other command is exec'd.

This module knows processes, not what runs in them (see :mod:`papermirror.cli`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from papermirror import forked

log = logging.getLogger("papermirror")

BACKOFF_FIRST = 1.0
BACKOFF_CAP = 30.0
# A child that ran this long before exiting starts again at the first backoff step.
HEALTHY_AFTER = 60.0
TICK = 0.2


@dataclass
class Child:
    """One supervised process: a command line, or a callable that starts one (Redis)."""

    name: str
    argv: list[str]
    needs_redis: bool = True
    process: subprocess.Popen | forked.Forked | None = None
    started_at: float = 0.0
    failures: int = 0  # exits in a row, each after less than HEALTHY_AFTER
    restart_at: float | None = None  # when a stopped child starts again
    launch: Callable[[], subprocess.Popen] | None = None

    def start(self, env: dict[str, str]) -> None:
        """Start (or restart) the process in its own session, so Ctrl-C reaches us first."""
        if self.launch:
            self.process = self.launch()
        elif forked.module_of(self.argv):
            self.process = forked.run_module(self.argv, env, before=die_with_parent)
        else:
            self.process = subprocess.Popen(
                self.argv, env=env, start_new_session=True, preexec_fn=die_with_parent
            )
        self.started_at = time.monotonic()
        self.restart_at = None
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def exited(self, now: float) -> float:
        """Note an exit (or a failed start); returns the backoff before the next start."""
        self.failures = 1 if now - self.started_at >= HEALTHY_AFTER else self.failures + 1
        delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (self.failures - 1))
        self.restart_at = now + delay
        if self.process is not None:
            _kill_leftovers(self.process.pid)
        return delay


PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In a child (before exec, or forked): get ``sig`` when its parent dies, even by kill -9,
    so a killed `papermirror up` leaves no Redis or worker running on its data dir."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass  # not Linux


def _kill_leftovers(pgid: int) -> None:
    """Stop what a dead child left in its session: the web server's workers hold the port, RQ's
    work horse a job. Each child leads its own process group, named by its pid."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass


class Supervisor:
    """Runs children until stopped; ``redis_ok`` says whether Redis answers right now."""

    def __init__(self, children: list[Child], env: dict[str, str], redis_ok: Callable[[], bool]):
        self.children = children
        self.env = env
        self.redis_ok = redis_ok
        self.stopping = False

    def stop(self, *_args) -> None:
        """Ask the loop to end (a signal handler)."""
        self.stopping = True

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        """Start every child and keep them alive until :meth:`stop`; then stop them all."""
        try:
            for child in self.children:
                if self.stopping:
                    break
                if not child.running():
                    self._start(child, time.monotonic())
            if on_started and not self.stopping:
                on_started()
            redis_was_ok = True
            next_probe = 0.0
            while not self.stopping:
                time.sleep(TICK)
                now = time.monotonic()
                for child in self.children:
                    if self.stopping:
                        break
                    if child.restart_at is None and not child.running():
                        delay = child.exited(now)
                        log.warning(
                            "%s exited with %s; restarting in %.0f s",
                            child.name,
                            child.process.returncode,
                            delay,
                        )
                    if child.restart_at is not None and now >= child.restart_at:
                        self._start(child, now)
                if now >= next_probe:
                    next_probe = now + 1.0
                    redis_is_ok = self.redis_ok()
                    if redis_is_ok and not redis_was_ok:
                        self._redis_is_back()
                    redis_was_ok = redis_is_ok
        finally:
            self.stop_all()
        return 0

    def _start(self, child: Child, now: float) -> None:
        try:
            child.start(self.env)
        except (OSError, RuntimeError) as exc:  # e.g. Redis' port taken meanwhile
            child.process = None
            child.started_at = now
            log.error(
                "%s did not start (%s); trying again in %.0f s", child.name, exc, child.exited(now)
            )

    def _redis_is_back(self) -> None:
        log.info("Redis answers again")
        now = time.monotonic()
        for child in self.children:
            if child.needs_redis and child.restart_at is not None and not self.stopping:
                child.failures = 0
                self._start(child, now)

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM every child (Redis last, so the others can still save), then wait."""
        apps = [c for c in self.children if c.needs_redis]
        rest = [c for c in self.children if not c.needs_redis]
        for group in (apps, rest):
            running = [c for c in group if c.running()]
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
                _kill_leftovers(c.process.pid)
