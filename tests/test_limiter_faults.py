"""The rate limit holds in every fault: redirects, stalls, timeouts, lost Redis state.

Real processes, a real Redis and the replay arXiv server with injected faults.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
import redis

from papermirror import keys
from papermirror.arxiv.http import ArxivUnavailable, PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter, lock_ttl_for
from papermirror.settings import Settings
from tests.replay import ReplayServer

SPAWN = multiprocessing.get_context("spawn")
TOLERANCE = 0.01


@pytest.fixture
def server():
    with ReplayServer() as replay:
        yield replay


def settings_for(api_url: str, **overrides) -> Settings:
    values = {
        "arxiv_api_url": api_url,
        "arxiv_min_interval": 0.3,
        "arxiv_timeout": 2.0,
        "arxiv_retries": 0,
        "arxiv_max_backoff": 1.0,
        "contact": "tests@example.org",
        **overrides,
    }
    return Settings.from_env({}, **values)


def session_for(redis_client, settings: Settings) -> PoliteSession:
    return PoliteSession(settings, ArxivLimiter(redis_client, settings.arxiv_min_interval))


def get(session: PoliteSession, url: str):
    return session.polite_get(url, {"id_list": "2104.12255", "max_results": "1"})


def test_each_redirect_hop_waits_for_its_own_slot(redis_client, server):
    settings = settings_for(server.api_url)
    server.inject("redirect", count=3, path="/api/query")  # a chain of three 302s
    response = get(session_for(redis_client, settings), server.api_url)
    assert response.status_code == 200 and b"<entry>" in response.content
    log = server.requests()
    assert len(log) == 4
    assert server.min_gap() >= settings.arxiv_min_interval - TOLERANCE
    assert server.max_in_flight == 1
    assert int(redis_client.get(keys.ARXIV_CALLS)) == 4


@pytest.mark.parametrize(
    ("location", "follow"),
    [
        ("https://export.arxiv.org/api/query?id_list=1", True),
        ("https://arxiv.org/abs/2104.12255", True),
        ("http://rss.arxiv.org/rss/cs.AI", True),
        ("https://evil.example/api/query", False),
        ("https://arxiv.org.evil.example/x", False),
        ("https://evilarxiv.org/x", False),
        ("ftp://arxiv.org/x", False),
        ("javascript:alert(1)", False),
    ],
)
def test_redirects_only_to_arxivs_hosts(location, follow):
    settings = settings_for("http://127.0.0.1:9/api/query")
    session = PoliteSession(settings, ArxivLimiter(redis.Redis(), 0.3))
    assert session.may_follow(location) is follow
    assert session.may_follow("http://127.0.0.1:9/elsewhere")  # a configured endpoint


def test_a_redirect_off_arxiv_is_refused_unfollowed(redis_client, server):
    settings = settings_for(server.api_url, arxiv_retries=2)
    server.inject("redirect", count=1, location="https://evil.example/api/query")
    with pytest.raises(ArxivUnavailable) as info:
        get(session_for(redis_client, settings), server.api_url)
    assert info.value.code == "redirect"
    assert len(server.requests()) == 1


def test_a_redirect_loop_stops_after_a_few_hops(redis_client, server):
    settings = settings_for(server.api_url, arxiv_min_interval=0.05, arxiv_max_redirects=2)
    server.inject("redirect", count=50)
    with pytest.raises(ArxivUnavailable) as info:
        get(session_for(redis_client, settings), server.api_url)
    assert info.value.code == "redirect"
    assert len(server.requests()) == 3


def test_the_lock_outlives_the_timeout():
    assert lock_ttl_for(30.0) >= 40.0
    settings = settings_for("http://127.0.0.1:9/api/query", arxiv_timeout=30.0)
    session = session_for(redis.Redis(), settings)
    assert session.limiter.lock_ttl >= 40.0


def test_after_a_timeout_the_interval_counts_from_the_timeout(redis_client, server):
    settings = settings_for(server.api_url, arxiv_timeout=0.6, arxiv_retries=1)
    server.inject("hang", count=1, path="/api/query")  # hangs until we give up
    session = session_for(redis_client, settings)
    response = get(session, server.api_url)
    assert response.status_code == 200
    first, second = server.requests()
    assert first.fault == "hang" and first.done is not None
    # The abandoned request ended (we closed the connection) before the next one,
    # and the next waited the interval (here the backoff, 2 intervals) from then.
    assert second.t - first.done >= settings.arxiv_min_interval - TOLERANCE
    assert server.max_in_flight == 1


def test_a_trickling_answer_is_cut_at_the_timeout(redis_client, server):
    # A body that never ends within the timeout counts as a timeout, whatever each read does.
    settings = settings_for(server.api_url, arxiv_timeout=0.5)

    def trickle(_request):
        from tests.replay import Reply

        time.sleep(0.9)  # headers came at once, the body later
        return Reply(200, b"<feed/>", {"Content-Type": "application/atom+xml"})

    server.route("/slowbody", trickle)
    started = time.monotonic()
    with pytest.raises(ArxivUnavailable) as info:
        session_for(redis_client, settings).polite_get(server.url + "/slowbody")
    assert info.value.code == "timeout"
    assert time.monotonic() - started < 3.0


def test_the_process_floor_holds_when_redis_forgets(redis_client):
    limiter = ArxivLimiter(redis_client, 0.5)
    with limiter.slot():
        pass
    ended = time.monotonic()
    redis_client.flushall()  # a Redis restarted without persistence
    with limiter.slot():
        started = time.monotonic()
    assert started - ended >= 0.5 - TOLERANCE


def test_one_request_at_a_time_per_process_even_without_the_redis_lock(redis_client):
    limiter = ArxivLimiter(redis_client, 0.05)
    times = {}

    def second():
        with limiter.slot(timeout=10):
            times["second"] = time.monotonic()

    with limiter.slot():
        redis_client.delete(keys.ARXIV_LOCK, keys.ARXIV_NEXT)  # as if Redis failed over
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        times["first_done"] = time.monotonic()
    thread.join(10)
    assert times["second"] >= times["first_done"] + 0.05 - TOLERANCE


def test_429_without_retry_after_backs_off_and_tells_readers(redis_client, server):
    settings = settings_for(server.api_url, arxiv_retries=1)
    server.inject("status", count=1, status=429)
    response = get(session_for(redis_client, settings), server.api_url)
    assert response.status_code == 200
    assert server.min_gap() >= 2 * settings.arxiv_min_interval - TOLERANCE  # the backoff
    assert not redis_client.exists(keys.ARXIV_TROUBLE)  # cleared by the success

    server.inject("status", count=2, status=429)
    with pytest.raises(ArxivUnavailable) as info:
        get(session_for(redis_client, settings), server.api_url)
    assert info.value.code == "rate_limited"
    assert redis_client.get(keys.ARXIV_TROUBLE).startswith(b"rate_limited|")


def test_a_dropped_connection_is_retried_politely(redis_client, server):
    settings = settings_for(server.api_url, arxiv_retries=2)
    server.inject("drop", count=2)
    assert get(session_for(redis_client, settings), server.api_url).status_code == 200
    assert len(server.requests()) == 3
    assert server.min_gap() >= settings.arxiv_min_interval - TOLERANCE
    assert server.max_in_flight == 1


# --- a stalled slot holder (SIGSTOP) in another process ---------------------


def _request_once(redis_url, api_url, timeout, started):
    client = redis.Redis.from_url(redis_url)
    settings = settings_for(api_url, arxiv_timeout=timeout, arxiv_min_interval=0.2)
    started.set()
    try:
        get(session_for(client, settings), api_url)
    except ArxivUnavailable:
        pass


@pytest.mark.slow
def test_a_stalled_holder_keeps_the_slot(redis_url, server):
    # Timeout 12 s: the lock lives 18 s. The holder is stopped for 16 s, past the old
    # fixed 15 s lock, with its request open; nobody else may start meanwhile.
    timeout, stall = 12.0, 16.0
    server.inject("hang", count=1, path="/api/query")
    holder_ready, other_ready = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(
        target=_request_once, args=(redis_url, server.api_url, timeout, holder_ready)
    )
    holder.start()
    deadline = time.monotonic() + 30
    while not server.requests():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(holder.pid, signal.SIGSTOP)
    other = SPAWN.Process(
        target=_request_once, args=(redis_url, server.api_url, timeout, other_ready)
    )
    other.start()
    try:
        time.sleep(stall)
    finally:
        os.kill(holder.pid, signal.SIGCONT)
    holder.join(30)
    other.join(30)
    first, second = server.requests()
    assert server.max_in_flight == 1
    assert second.t >= first.done


def test_a_failing_feed_host_does_not_mark_the_api_in_trouble(redis_client, server):
    # First visits depend on the API alone: RSS failing must not make their pages give up.
    settings = settings_for(server.api_url, arxiv_rss_url=server.url + "/rss/")
    server.inject("status", count=1, status=503, path="/rss/")
    with pytest.raises(ArxivUnavailable):
        session_for(redis_client, settings).polite_get(server.url + "/rss/cs.AI")
    assert not redis_client.exists(keys.ARXIV_TROUBLE)
    server.inject("status", count=1, status=503, path="/api/query")
    with pytest.raises(ArxivUnavailable):
        get(session_for(redis_client, settings), server.api_url)
    assert redis_client.exists(keys.ARXIV_TROUBLE)
