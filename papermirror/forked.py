"""Run ``python -m MODULE ARGS`` as a fork of this process instead of a new interpreter.

A child started by fork shares every page of its parent it does not write to:
the interpreter's own start-up objects and the modules the parent imported
before forking (``gc.freeze()`` keeps the collector from touching them). Each
exec'd Python child carried its own ~9 MB copy of the bare interpreter and its
own ~8 MB of redis-py; forked from a supervisor that preloaded the modules the
children share, they are counted once (bench/memory.py).

:class:`Forked` answers the calls the supervisor makes of a ``subprocess.Popen``.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import runpy
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

import setproctitle


class Forked:
    """A forked child, with the ``Popen`` methods the supervisor uses."""

    def __init__(self, pid: int, args: list[str]) -> None:
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code, or None while it runs (reaps it once it ended)."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Signal the child, unless it already ended."""
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)


def module_of(argv: list[str]) -> str | None:
    """``MODULE`` of a ``[sys.executable, "-m", MODULE, ...]`` command line, else None."""
    if len(argv) >= 3 and argv[0] == sys.executable and argv[1] == "-m":
        return argv[2]
    return None


def run_module(argv: list[str], env: dict[str, str], before: Callable[[], None]) -> Forked:
    """Fork; the child runs ``argv`` (see :func:`module_of`) with ``env`` as its whole
    environment, in a session of its own, after calling ``before`` (as Popen's
    preexec_fn), and never returns to the caller's code."""
    module = module_of(argv)
    if module is None:
        raise ValueError(f"not a `python -m` command line: {argv!r}")
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    # Until the child has its own handlers, a SIGTERM would run the parent's (which
    # only set a flag): held back, it is delivered once the default is in place.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    if pid:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return Forked(pid, argv)
    code = 1
    try:
        os.setsid()
        before()
        if os.getppid() != parent:  # it died before ``before`` asked to die with it
            return  # (to ``finally``)
        # `ps` and /proc/PID/cmdline show the command, not the supervisor's. Before the
        # environment is replaced: setproctitle finds the process' argv from it.
        setproctitle.setproctitle(" ".join(argv))
        _fresh_process(env)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        sys.argv = [argv[0], *argv[3:]]  # runpy puts the module's path first
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
    finally:
        # Never back into the parent's frames (its `finally` blocks would run here).
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    raise AssertionError("unreachable")  # pragma: no cover


def _fresh_process(env: dict[str, str]) -> None:
    """What a new interpreter would have that a fork does not: its own environment,
    default signal handlers, no logging set up and its own random sequence."""
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    random.seed()


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
