"""``papermirror backup FILE`` and ``papermirror restore FILE``: the whole Redis, as one RDB file.

Backup asks Redis for a snapshot the way a replica does (``redis-cli --rdb``):
Redis forks, writes the dataset as of that instant and streams it, so the file
is consistent while the mirror keeps running, and it works the same for the
embedded Redis and an external one (only the network is needed).

Restore loads a snapshot into a *stopped* mirror's embedded Redis data dir. The
data there is moved aside first, never deleted. Redis prefers its append-only
file to a snapshot at start, so restore starts Redis on the snapshot alone and
switches the append-only file on, which writes it from the loaded data; the
next `papermirror up` then starts from exactly the snapshot.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

from papermirror import embedded
from papermirror.commands import running_url
from papermirror.settings import Settings

MAGIC = b"REDIS"
# What a Redis data dir may hold: the snapshot, and the AOF of Redis 6 and of Redis 7.
DATA_FILES = (embedded.RDB_NAME, "appendonly.aof", "appendonlydir")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``backup`` or ``restore``; returns the exit code."""
    if args.command == "backup":
        return backup(settings, Path(args.file))
    return restore(settings, Path(args.file))


def dump(url: str, target: Path, timeout: float = 3600) -> None:
    """Write a consistent RDB snapshot of the Redis at ``url`` to ``target``."""
    parts = urlsplit(url)
    env = dict(os.environ)
    secret = embedded.password(url)
    if secret:  # through the environment, not argv, where `ps` would show it
        env["REDISCLI_AUTH"] = secret
    host = parts.hostname or "127.0.0.1"
    bare = urlunsplit((parts.scheme, f"{host}:{parts.port or 6379}", parts.path, "", ""))
    tmp = target.with_name(target.name + ".partial")
    result = subprocess.run(
        [embedded.redis_cli_binary(), "-u", bare, "--rdb", str(tmp)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0 or not is_rdb(tmp):
        tmp.unlink(missing_ok=True)
        raise RuntimeError((result.stderr or result.stdout).strip() or "redis-cli --rdb failed")
    tmp.replace(target)


def is_rdb(path: Path) -> bool:
    """Whether ``path`` starts like an RDB file."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def backup(settings: Settings, target: Path) -> int:
    """``papermirror backup FILE``: works while the mirror runs, and while it does not."""
    if target.is_dir():
        print(f"{target} is a folder; name a file", file=sys.stderr)
        return 2
    url = settings.redis_url or running_url(settings)
    server = None
    if not url:  # a stopped mirror: start its Redis on its data dir for the copy
        server = embedded.start(
            Path(settings.data_dir) / "redis", maxmemory=settings.redis_maxmemory, timeout=300
        )
        url = server.url
    try:
        keys = redis.Redis.from_url(url).dbsize()
        dump(url, target)
    except (RuntimeError, redis.RedisError, OSError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if server:
            server.stop()
    print(f"wrote {target}: {target.stat().st_size:,} bytes, {keys:,} keys in database 0")
    return 0


def restore(settings: Settings, source: Path) -> int:
    """``papermirror restore FILE``: only into the embedded Redis of a stopped mirror."""
    if settings.redis_url:
        print(
            "restore loads the embedded Redis's data dir; for the Redis at "
            "PAPERMIRROR_REDIS_URL, stop it and put FILE in its dir as its dbfilename",
            file=sys.stderr,
        )
        return 2
    if not is_rdb(source):
        print(f"{source} is not a Redis snapshot (RDB) file", file=sys.stderr)
        return 2
    if running_url(settings):
        print("the mirror is running: stop `papermirror up` first", file=sys.stderr)
        return 1
    redis_dir = Path(settings.data_dir) / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    aside = move_aside(redis_dir)
    shutil.copyfile(source, redis_dir / embedded.RDB_NAME)
    server = embedded.start(redis_dir, appendonly=False, maxmemory="0", timeout=600)
    try:
        client = redis.Redis.from_url(server.url)
        keys = client.dbsize()
        client.config_set("appendonly", "yes")
        wait_for_aof(client)
    finally:
        server.stop()
    print(f"restored {keys:,} keys into {redis_dir}")
    if aside:
        print(f"the data that was there is in {aside}")
    return 0


def move_aside(redis_dir: Path) -> Path | None:
    """Move the data files of ``redis_dir`` into a dated folder beside them; returns it."""
    present = [redis_dir / name for name in DATA_FILES if (redis_dir / name).exists()]
    if not present:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = redis_dir / f"before-restore-{stamp}"
    aside.mkdir()
    for path in present:
        path.rename(aside / path.name)
    return aside


def wait_for_aof(client: redis.Redis, timeout: float = 600) -> None:
    """Wait until the append-only file written on CONFIG SET appendonly yes is complete."""
    deadline = time.monotonic() + timeout
    while True:
        info = client.info("persistence")
        if info.get("aof_enabled") and not info.get("aof_rewrite_in_progress"):
            if not info.get("aof_rewrite_scheduled"):
                return
        if time.monotonic() > deadline:
            raise RuntimeError("Redis did not finish writing its append-only file")
        time.sleep(0.05)
