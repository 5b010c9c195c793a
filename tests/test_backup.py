"""`papermirror backup` and `restore`: a round trip with real data keeps every key.

The data is what a mirror holds after a real daily fetch (papers, listings,
feed status, RQ's job records), plus first-visit state with expiry times.
"""

from __future__ import annotations

import time

import pytest
import redis

from papermirror import embedded, keys
from papermirror.commands import url_file
from papermirror.settings import Settings
from papermirror.store import Store
from tests.test_cli import CATEGORIES, FOUR, FOUR_PATH, papermirror


def value(c: redis.Redis, key: bytes):
    """A key's value, whatever its type (DUMP bytes may differ by encoding after a reload)."""
    kind = c.type(key)
    read = {
        b"string": c.get,
        b"hash": c.hgetall,
        b"list": lambda k: c.lrange(k, 0, -1),
        b"set": c.smembers,
        b"zset": lambda k: c.zrange(k, 0, -1, withscores=True),
        b"stream": lambda k: c.xrange(k),
    }[kind]
    return kind, read(key)


def everything(url: str) -> dict:
    """Every key of every database: its type and value, and whether it expires."""
    client = redis.Redis.from_url(url)
    out = {}
    for db in client.info("keyspace"):
        c = redis.Redis.from_url(url, db=int(db[2:]))
        for key in c.scan_iter(count=1000):
            out[(db, key)] = (*value(c, key), c.ttl(key) > 0)
    return out


def on(data_dir):
    """Start the embedded Redis of a stopped mirror on its data dir, as `up` would."""
    return embedded.start(data_dir / "redis")


@pytest.fixture
def filled(tmp_path, replay):
    """A stopped mirror's data dir after a real daily fetch, and its keys."""
    replay.route(FOUR_PATH, FOUR)
    data = tmp_path / "source"
    done = papermirror(
        "fetch", data_dir=str(data), arxiv_rss_url=replay.url + "/rss/", categories=CATEGORIES
    )
    assert done.returncode == 0, done.stderr
    server = on(data)
    try:
        client = redis.Redis.from_url(server.url)
        store = Store(client)
        store.add_pending(["2401.00001", "2401.00002"])
        store.mark_missing(["2401.99999"], ttl=3600)
        client.set(keys.FETCH_QUEUED, 1, ex=600)
        snapshot = everything(server.url)
    finally:
        server.stop()
    kinds = {k[1].split(b":")[1] for k in snapshot if k[1].startswith(b"pm:")}
    assert {b"p", b"l", b"ld", b"feeds", b"pending", b"miss"} <= kinds, kinds
    assert any(k[1].startswith(b"rq:") for k in snapshot), "no RQ state to keep"
    return data, snapshot


def test_round_trip_keeps_every_key(tmp_path, filled):
    data, before = filled
    backup = tmp_path / "mirror.rdb"
    done = papermirror("backup", str(backup), data_dir=str(data))
    assert done.returncode == 0, done.stderr
    assert backup.read_bytes()[:5] == b"REDIS"

    target = tmp_path / "target"
    done = papermirror("restore", str(backup), data_dir=str(target))
    assert done.returncode == 0, done.stderr
    server = on(target)  # with its append-only file on, as `papermirror up` starts it
    try:
        assert everything(server.url) == before
        info = redis.Redis.from_url(server.url).info("persistence")
        assert info["aof_enabled"] == 1
    finally:
        server.stop()

    # Restoring over data moves that data aside; nothing is deleted.
    done = papermirror("restore", str(backup), data_dir=str(target))
    assert done.returncode == 0, done.stderr
    [aside] = (target / "redis").glob("before-restore-*")
    assert (aside / embedded.RDB_NAME).is_file()
    assert "moved aside" in done.stdout or str(aside) in done.stdout


def test_backup_of_a_running_mirror_and_restore_refuses_to_run_under_it(tmp_path, filled):
    data, before = filled
    server = on(data)
    try:
        url_file(Settings.from_env({}, data_dir=str(data))).write_text(server.url + "\n")
        redis.Redis.from_url(server.url).set("pm:written-while-running", 1)
        backup = tmp_path / "live.rdb"
        done = papermirror("backup", str(backup), data_dir=str(data))
        assert done.returncode == 0, done.stderr
        refused = papermirror("restore", str(backup), data_dir=str(data))
        assert refused.returncode == 1 and "running" in refused.stderr
        assert redis.Redis.from_url(server.url).dbsize() == len(before) + 1
    finally:
        server.stop()
        url_file(Settings.from_env({}, data_dir=str(data))).unlink()
    target = tmp_path / "target"
    assert papermirror("restore", str(backup), data_dir=str(target)).returncode == 0
    restored = on(target)
    try:
        assert redis.Redis.from_url(restored.url).get("pm:written-while-running") == b"1"
    finally:
        restored.stop()


def test_restore_refuses_what_it_cannot_do(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a snapshot")
    done = papermirror("restore", str(junk), data_dir=str(tmp_path / "d"))
    assert done.returncode == 2 and "not a Redis snapshot" in done.stderr
    external = papermirror(
        "restore", str(junk), data_dir=str(tmp_path / "d"), redis_url="redis://127.0.0.1:1/0"
    )
    assert external.returncode == 2 and "PAPERMIRROR_REDIS_URL" in external.stderr
    assert not (tmp_path / "d" / "redis").exists()


def test_backup_of_an_unreachable_redis_fails_clearly(tmp_path):
    url = f"redis://127.0.0.1:{embedded.free_port()}/0"
    started = time.monotonic()
    done = papermirror("backup", str(tmp_path / "x.rdb"), redis_url=url)
    assert done.returncode == 1 and "backup failed" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "x.rdb").exists()
