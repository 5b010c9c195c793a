"""A running back end for tests: embedded Redis, RQ worker processes, the replay arXiv server.

Also `papermirror up` as a subprocess (:class:`Mirror`) and helpers to find the
processes under it, for the fault tests (kill -9 of Redis, a worker, the web server).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from rq import Worker

from papermirror import embedded, keys
from papermirror.cli import WORKER_CLASS
from papermirror.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def replay_feeds(api_url: str) -> dict[str, str]:
    """RSS and OAI-PMH on the replay server too, so a scheduled job never reaches the internet."""
    base = api_url.removesuffix("/api/query")
    return {"arxiv_rss_url": base + "/rss/", "arxiv_oai_url": base + "/oai"}


def stack_settings(redis_url: str, api_url: str, **overrides) -> Settings:
    """Settings for tests: fast intervals, few retries, the replay server as arXiv."""
    values = dict(
        redis_url=redis_url,
        arxiv_api_url=api_url,
        **replay_feeds(api_url),
        arxiv_min_interval=0.2,
        arxiv_timeout=3.0,
        arxiv_retries=1,
        arxiv_max_backoff=0.5,
        fetch_wait=4.0,
        coalesce_window=0.05,
        error_ttl=30,
        contact="tests@papermirror.invalid",
        mathjax_url="",
    )
    values.update(overrides)
    return Settings.from_env({}, **values)


@dataclass
class Stack:
    """Redis + workers + replay server; the app under test is built on ``settings``."""

    settings: Settings
    redis_server: embedded.EmbeddedRedis
    replay: object
    workers: list[subprocess.Popen] = field(default_factory=list)

    @classmethod
    def start(cls, tmp: Path, replay, workers: int = 1) -> Stack:
        """Start Redis and ``workers`` worker processes; wait until they registered."""
        server = embedded.start(tmp / "redis", appendonly=False)
        stack = cls(stack_settings(server.url, replay.api_url), server, replay)
        for _ in range(workers):
            stack.add_worker()
        return stack

    @property
    def redis(self) -> redis.Redis:
        """A client on the stack's Redis."""
        return redis.Redis.from_url(self.settings.redis_url)

    def add_worker(self) -> subprocess.Popen:
        """Start one more `rq worker` process and wait until it is registered."""
        before = Worker.count(connection=self.redis)
        env = {**os.environ, **self.settings.to_env()}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rq.cli",
                "worker",
                "--worker-class",
                WORKER_CLASS,
                "--with-scheduler",
                "--url",
                self.settings.redis_url,
                keys.FETCH_QUEUE,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers.append(proc)
        deadline = time.monotonic() + 20
        while Worker.count(connection=self.redis) <= before:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("rq worker did not start")
            time.sleep(0.05)
        return proc

    def add_scheduler(self, **overrides) -> subprocess.Popen:
        """Start `rq cron worker.schedule` (the daily jobs and the pending sweeper).

        ``overrides`` are settings for it, e.g. ``sweep_interval=1``.
        """
        settings = Settings.from_env(self.settings.to_env(), **overrides)
        env = {**os.environ, **settings.to_env(), "RQ_REDIS_URL": settings.redis_url}
        proc = subprocess.Popen(
            [sys.executable, "-m", "rq.cli", "cron", "worker.schedule"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        """Stop the workers and Redis."""
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.redis_server.stop()


@dataclass
class Mirror:
    """A `papermirror up` subprocess (embedded Redis, workers, the web server)."""

    base: str
    process: subprocess.Popen
    data_dir: Path

    @classmethod
    def start(cls, data_dir: Path, api_url: str, timeout: float = 60, **settings) -> Mirror:
        """Start `papermirror up` on a free port with arXiv at ``api_url``; wait until it serves.

        ``settings`` are extra PAPERMIRROR_* values, by lower-case name (workers=2).
        """
        port = embedded.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMIRROR_")}
        values = {
            "port": port,
            "data_dir": data_dir,
            "arxiv_api_url": api_url,
            **replay_feeds(api_url),
            "arxiv_min_interval": 0.2,
            "contact": "tests@papermirror.invalid",
            "mathjax_url": "",
            **settings,
        }
        env.update({f"PAPERMIRROR_{k.upper()}": str(v) for k, v in values.items()})
        # The log, beside the data dir, tells what happened when a fault test fails.
        log = Path(data_dir).parent / (Path(data_dir).name + "-up.log")
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "papermirror.cli", "up"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        mirror = cls(f"http://127.0.0.1:{port}", proc, Path(data_dir))
        deadline = time.monotonic() + timeout
        while not mirror.answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                mirror.stop()
                raise RuntimeError(f"papermirror up did not come up (exit {proc.poll()})")
            time.sleep(0.2)
        return mirror

    @property
    def log(self) -> str:
        """What `papermirror up` and its children printed so far (the last 4,000 characters)."""
        path = self.data_dir.parent / (self.data_dir.name + "-up.log")
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def processes(self, contains: str = "") -> list[int]:
        """Pids of the processes under `papermirror up` whose command line has ``contains``."""
        return [pid for pid, cmd in process_tree(self.process.pid)[1:] if contains in cmd]

    def answers(self) -> bool:
        """Whether the web server answers its liveness check."""
        import requests

        try:
            return requests.get(self.base + "/healthz/live", timeout=2).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            # Still booting (slow on a loaded machine): ask again until start()'s deadline.
            return False

    def stop(self, timeout: float = 30) -> int:
        """Ctrl-C, as a person would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def process_tree(root: int) -> list[tuple[int, str]]:
    """(pid, command line) of ``root`` and every process below it, parents first."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        out.append((pid, cmd))
        todo.extend(sorted(parents.get(pid, [])))
    return out
