"""papermirror.forked: `python -m MODULE` run as a fork, the way `papermirror up` starts
its Python children (real processes, no Redis)."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys

import pytest

from papermirror import forked
from papermirror.supervise import die_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc")


def start(tmp_path, mode: str) -> tuple[forked.Forked, object]:
    out = tmp_path / "seen.json"
    argv = [sys.executable, "-m", "tests.forked_target", str(out), mode]
    return forked.run_module(argv, {"FORKED_TARGET": "yes"}, before=die_with_parent), out


@pytest.mark.parametrize(
    ("mode", "code"),
    [("ok", 0), ("exit-3", 3), ("message", 1), ("raise", 1)],
)
def test_the_child_runs_the_module_and_ends_with_its_exit_code(tmp_path, mode, code):
    child, out = start(tmp_path, mode)
    assert child.wait(30) == code
    assert child.poll() == code
    seen = json.loads(out.read_text())
    assert seen["argv"][1:] == [str(out), mode]
    assert seen["env"] == "yes" and not seen["has_home"]  # the given environment, only
    assert seen["own_session"] and seen["sigterm_default"]
    assert seen["root_handlers"] == 0  # the child sets up its own logging
    assert "-m tests.forked_target" in seen["cmdline"]  # what `ps` shows


def test_the_child_never_returns_into_the_callers_code(tmp_path):
    marks = tmp_path / "marks"
    try:
        child, _ = start(tmp_path, "ok")
    finally:
        with open(marks, "a") as f:  # a child that came back here would write twice
            f.write("x")
    assert child.wait(30) == 0
    assert marks.read_text() == "x"


def test_a_running_child_times_out_then_dies_by_signal(tmp_path):
    logging.getLogger().addHandler(logging.NullHandler())  # the child must drop it
    child, out = start(tmp_path, "sleep")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(0.3)
        assert child.poll() is None
    finally:
        child.terminate()
    assert child.wait(30) == -signal.SIGTERM
    assert json.loads(out.read_text())["root_handlers"] == 0
    child.kill()  # after the end: no error


def test_only_python_module_command_lines_are_forked():
    assert forked.module_of([sys.executable, "-m", "worker.run", "--cron"]) == "worker.run"
    assert forked.module_of(["redis-server", "--port", "1"]) is None
    assert forked.module_of(["/usr/bin/other-python", "-m", "worker.run"]) is None
    with pytest.raises(ValueError):
        forked.run_module(["redis-server"], {}, before=lambda: None)


def test_a_sigterm_right_after_the_fork_ends_the_child(tmp_path):
    """Before the child has reset its handlers it still has the parent's (the
    supervisor's only set a flag): the signal must wait for the default, not vanish."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        child, _ = start(tmp_path, "sleep")
        child.terminate()
        try:
            assert child.wait(10) == -signal.SIGTERM
        finally:
            child.kill()
    finally:
        signal.signal(signal.SIGTERM, previous)
