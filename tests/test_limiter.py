"""Politeness: the global limiter holds across OS processes sharing one Redis."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
import redis

from papermirror import keys
from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter, SlotTimeout
from papermirror.settings import Settings
from tests.replay import ReplayServer

# Gaps are measured on the replay server's monotonic clock, waits on Redis
# TIME (the wall clock). A later request is sent only after the earlier answer
# arrived plus min_interval, so the measured gap can fall short only by how
# much the two clocks' rates differ (NTP slews at most 500 ppm: 0.25 ms over
# 0.5 s) plus Redis TIME's microsecond rounding. 5 ms covers that with margin.
TOLERANCE = 0.005

SPAWN = multiprocessing.get_context("spawn")


def _requests_from_a_process(redis_url, api_url, contact, count, start_at, interval):
    client = redis.Redis.from_url(redis_url)
    settings = Settings.from_env(
        {}, arxiv_api_url=api_url, arxiv_min_interval=interval, contact=contact, arxiv_retries=0
    )
    session = PoliteSession(settings, ArxivLimiter(client, interval))
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(count):
        response = session.polite_get(api_url, {"id_list": "2104.12255", "max_results": "1"})
        assert response.status_code == 200


def _die_holding_the_slot(redis_url, lock_ttl):
    limiter = ArxivLimiter(redis.Redis.from_url(redis_url), 0.05, lock_ttl=lock_ttl)
    with limiter.slot():
        os.kill(os.getpid(), signal.SIGKILL)


def _run(target, *args):
    process = SPAWN.Process(target=target, args=args)
    process.start()
    return process


@pytest.fixture
def server():
    with ReplayServer() as replay:
        yield replay


def test_two_processes_never_overlap_nor_crowd(redis_url, server):
    interval, per_process = 0.5, 4
    start_at = time.time() + 1.5  # both processes are spawned by then
    processes = [
        _run(
            _requests_from_a_process,
            redis_url,
            server.api_url,
            f"p{n}@example.org",
            per_process,
            start_at,
            interval,
        )
        for n in range(2)
    ]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    log = server.requests()
    assert len(log) == 2 * per_process
    assert {r.headers["User-Agent"].split("mailto:")[1] for r in log} == {
        "p0@example.org)",
        "p1@example.org)",
    }
    assert server.min_gap() >= interval - TOLERANCE
    assert server.max_in_flight == 1
    assert all(b.t >= a.done for a, b in zip(log, log[1:], strict=False))
    assert int(redis.Redis.from_url(redis_url).get(keys.ARXIV_CALLS)) == 2 * per_process


def test_next_request_waits_from_the_end_of_the_last(redis_client):
    limiter = ArxivLimiter(redis_client, 0.3)
    with limiter.slot():
        time.sleep(0.4)  # a long request
    finished = time.monotonic()
    with limiter.slot():
        started = time.monotonic()
    assert started - finished >= 0.3 - TOLERANCE


def test_dead_holder_blocks_no_longer_than_the_lock_ttl(redis_url, redis_client):
    lock_ttl = 1.0
    process = _run(_die_holding_the_slot, redis_url, lock_ttl)
    process.join(30)
    assert process.exitcode == -signal.SIGKILL
    assert redis_client.exists(keys.ARXIV_LOCK)
    limiter = ArxivLimiter(redis_client, 0.05, lock_ttl=lock_ttl)
    start = time.monotonic()
    with pytest.raises(SlotTimeout):
        with limiter.slot(timeout=0.1):
            pass
    with limiter.slot(timeout=lock_ttl + 1.0):
        waited = time.monotonic() - start
    assert 0.1 <= waited <= lock_ttl + 1.0  # + scheduling slack on a loaded machine


def test_heartbeat_keeps_a_long_request_exclusive(redis_url, redis_client):
    # A heartbeat every 0.4 s for a 1.2 s TTL: 0.8 s of slack for a loaded machine.
    holder = ArxivLimiter(redis_client, 0.05, lock_ttl=1.2)
    other = ArxivLimiter(redis.Redis.from_url(redis_url), 0.05, lock_ttl=1.2)
    times = {}

    def contend():
        time.sleep(0.1)
        with other.slot(timeout=10):
            times["other"] = time.monotonic()

    thread = threading.Thread(target=contend)
    with holder.slot():
        thread.start()
        time.sleep(4.0)  # more than three lock TTLs
        times["holder_done"] = time.monotonic()
    thread.join(10)
    assert times["other"] >= times["holder_done"] + 0.05 - TOLERANCE


def test_release_never_frees_someone_elses_lock(redis_client):
    limiter = ArxivLimiter(redis_client, 0.05)
    with limiter.slot():
        redis_client.set(keys.ARXIV_LOCK, "someone-else")  # as if ours had expired
    assert redis_client.get(keys.ARXIV_LOCK) == b"someone-else"


def test_defer_pushes_every_process_back(redis_url, redis_client, server):
    interval = 0.1
    ours = PoliteSession(
        Settings.from_env({}, arxiv_api_url=server.api_url, arxiv_min_interval=interval),
        ArxivLimiter(redis_client, interval),
    )
    ours.polite_get(server.api_url, {"id_list": "2104.12255"})
    assert ours.limiter.defer(1.5) == pytest.approx(1.5, abs=0.05)
    assert ours.limiter.defer(0.1) > 1.0  # never moves earlier
    process = _run(
        _requests_from_a_process, redis_url, server.api_url, "x@example.org", 1, 0, interval
    )
    process.join(30)
    assert process.exitcode == 0
    assert server.min_gap() >= 1.5 - TOLERANCE
