"""A fork pool: one forked process per target function, each forked again when it exits.

The parent has imported what the children need; forked children share those
pages with it and with each other (``gc.freeze`` keeps the collector from
copying them), so a second RQ worker costs a few MB instead of ~30. A child that
exits is forked again after an exponential backoff (1 s doubling to 30 s, reset
after a minute of running). SIGTERM or SIGINT stops the children, then the
parent. A child dies with the parent (PR_SET_PDEATHSIG), so a killed pool leaves
no orphans holding jobs.

The parent runs no thread, ever: a fork copies only the forking thread, so a
thread alive at a re-fork could leave the child a lock it holds, or (tantivy's
writer) a file lock the child would keep. Threads belong in a child (see
worker.services).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import time
from collections.abc import Callable

log = logging.getLogger("worker.pool")

BACKOFF_FIRST, BACKOFF_CAP, HEALTHY_AFTER = 1.0, 30.0, 60.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the supervisor's process-group kill still cleans up


def _fork(target: Callable[[], int]) -> int:
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _die_with_parent()
        code = 1
        try:
            code = target()
        except BaseException:  # noqa: BLE001 - a child must never return into the pool loop
            log.exception("worker process failed")
        finally:
            logging.shutdown()
            os._exit(code if isinstance(code, int) else 1)
    return pid


def run(targets: list[Callable[[], int]]) -> int:
    """Keep one fork of each of ``targets`` running until SIGTERM/SIGINT."""
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    gc.freeze()
    slots = [{"target": t, "pid": 0, "started": 0.0, "failures": 0, "at": 0.0} for t in targets]
    for slot in slots:
        slot.update(pid=_fork(slot["target"]), started=time.monotonic())
    while not stopping:
        time.sleep(0.2)
        now = time.monotonic()
        for slot in slots:
            if slot["pid"]:
                done, status = os.waitpid(slot["pid"], os.WNOHANG)
                if not done:
                    continue
                healthy = now - slot["started"] >= HEALTHY_AFTER
                slot["failures"] = 1 if healthy else slot["failures"] + 1
                delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (slot["failures"] - 1))
                log.warning("worker %d exited (%s); restarting in %.0f s", done, status, delay)
                slot.update(pid=0, at=now + delay)
            elif now >= slot["at"] and not stopping:
                slot.update(pid=_fork(slot["target"]), started=now)
    for slot in slots:
        if slot["pid"]:
            try:
                os.kill(slot["pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass
    for slot in slots:
        if slot["pid"]:
            try:
                os.waitpid(slot["pid"], 0)
            except ChildProcessError:
                pass
    return 0
