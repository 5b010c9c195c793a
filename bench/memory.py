"""Idle memory (PSS) of `papermirror up`, against a bare gunicorn + Flask app in the same run.

PSS (proportional set size, from /proc/PID/smaps_rollup) splits each shared
page among the processes that map it, so the sum over a process tree is what
the tree really costs. Each repeat starts the default `papermirror up`, lets it
settle, serves a paper (a first visit, then cached), the home page, a listing
and a search, so every process has done real work and the web worker compiled
the templates readers use, waits, then sums PSS over the supervisor and all its descendants. The
baseline is gunicorn with one sync worker serving a one-route Flask app.

Goal (issue 9): at most 120 MB for `papermirror up`.
Usage: python bench/memory.py [--repeats 3] [--settle 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import _common
import requests

from papermirror import embedded
from tests.replay import ReplayServer
from tests.stack import Mirror

PAPER = "/arxiv/1707.08567v1"
# What a reader opens besides papers: each page's templates get compiled (server.serve).
OTHER_PAGES = ["/", "/arxiv/cs.AI", "/search?q=neural"]


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, USS) of one process in kB ((0, 0) if it is gone). USS, the pages only this
    process maps, does not move when other programs map the same libraries (PSS does:
    other Pythons on the machine take a share of libpython's pages)."""
    pss = uss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith(("Private_Clean:", "Private_Dirty:")):
                    uss += int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return pss, uss


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_pss(pid: int) -> dict:
    """Total PSS in MB of a process tree, with its process count, per-command and
    per-process figures (forked children share their parent's command line)."""
    per: dict[str, float] = {}
    each: list[list] = []
    pids = descendants(pid)
    total = total_uss = 0
    for p in pids:
        kb, uss = memory_kb(p)
        total += kb
        total_uss += uss
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
            name = " ".join(c.decode() for c in cmd[1:4] if c) or cmd[0].decode()
        except OSError:
            name = "?"
        per[name] = round(per.get(name, 0) + kb / 1024, 1)
        each.append([name + _role(p), round(kb / 1024, 1), round(uss / 1024, 1)])
    return {
        "mb": round(total / 1024, 1),
        "uss_mb": round(total_uss / 1024, 1),
        "processes": len(pids),
        "by_command": per,
        "each": each,
    }


def _role(pid: int) -> str:
    """A process forked by another of the same command line: granian's web worker."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        ppid_cmd = Path(f"/proc/{_ppid(pid)}/cmdline").read_bytes()
    except OSError:
        return ""
    return " (forked worker)" if cmd == ppid_cmd else ""


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def measure_mirror(replay: ReplayServer, settle: float) -> dict:
    """PSS of an idle default `papermirror up` after it served a page."""
    with tempfile.TemporaryDirectory() as tmp:
        mirror = Mirror.start(Path(tmp), replay.api_url)
        try:
            for _ in range(40):
                if requests.get(mirror.base + PAPER, timeout=10).status_code == 200:
                    break
                time.sleep(0.5)
            for _ in range(20):  # reach every web process
                requests.get(mirror.base + PAPER, timeout=10)
                for page in OTHER_PAGES:
                    requests.get(mirror.base + page, timeout=10)
            time.sleep(settle)
            return tree_pss(mirror.process.pid)
        finally:
            mirror.stop()


BARE_APP = textwrap.dedent(
    """
    from flask import Flask
    app = Flask(__name__)

    @app.get("/")
    def index():
        return "ok"
    """
)


def measure_bare(settle: float) -> dict:
    """PSS of gunicorn (one sync worker) serving a one-route Flask app."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bareapp.py").write_text(BARE_APP)
        port = embedded.free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "bareapp:app"],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            for _ in range(20):
                requests.get(f"http://127.0.0.1:{port}/", timeout=2)
            time.sleep(settle)
            return tree_pss(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)


def stats(values: list[float]) -> dict:
    """min, median and max."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main() -> None:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--settle", type=float, default=8.0)
    args = parser.parse_args()
    mirror_runs, bare_runs = [], []
    with ReplayServer() as replay:
        for _ in range(args.repeats):
            bare_runs.append(measure_bare(args.settle))
            mirror_runs.append(measure_mirror(replay, args.settle))
    mirror_mb = [r["mb"] for r in mirror_runs]
    bare_mb = [r["mb"] for r in bare_runs]
    _common.emit(
        {
            "benchmark": "idle PSS of the default `papermirror up`",
            "cpus": os.cpu_count(),
            "papermirror_up_mb": stats(mirror_mb),
            "papermirror_up_uss_mb": stats([r["uss_mb"] for r in mirror_runs]),
            "bare_gunicorn_flask_mb": stats(bare_mb),
            "ratio": stats([m / b for m, b in zip(mirror_mb, bare_mb, strict=True)]),
            "goal_mb": 120,
            "goal_met": max(mirror_mb) <= 120,
            "processes": mirror_runs[-1]["processes"],
            "by_command_last_run": mirror_runs[-1]["by_command"],
            "by_process_last_run_pss_uss": mirror_runs[-1]["each"],
        }
    )


if __name__ == "__main__":
    main()
