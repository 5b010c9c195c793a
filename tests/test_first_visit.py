"""First visits: one drain job at a time, fair batches, quick word when arXiv is down.

Real `rq worker` processes (SimpleWorker), a real Redis and the replay arXiv server.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from rq import Queue

from papermirror import fetching, keys
from papermirror.pending import PendingQueue
from papermirror.records import Paper
from papermirror.store import Store
from server import create_app
from tests.stack import Stack, stack_settings


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def reset(stack):
    """Leave the module's stack as a fault found it: no trouble, no pushed limiter."""
    yield
    stack.replay.clear()
    client = stack.redis
    # A hung request still open must end before the slate is wiped, or it writes anew.
    wait_until(lambda: not client.exists(keys.FETCH_LOCK, keys.ARXIV_LOCK), timeout=30)
    client.delete(
        keys.ARXIV_NEXT,
        keys.ARXIV_TROUBLE,
        keys.FETCH_FAILS,
        keys.FETCH_QUEUED,
        keys.FETCH_FOLLOWUP,
    )


# --- the fair pending queue (no worker needed) --------------------------------


def test_a_lone_visitors_id_goes_ahead_of_a_backlog(redis_client):
    settings = stack_settings("", "", fetch_max_pending_per_client=5000, fetch_fair_share=3)
    queue = PendingQueue(redis_client, settings)
    bulk = [f"2409.{n:05d}" for n in range(1, 1801)]
    for start in range(0, len(bulk), 50):
        queue.add(bulk[start : start + 50], "203.0.113.9")
    queue.add(["2104.12255"], "198.51.100.7")
    batch = queue.batch(100)
    assert batch[0] == "2104.12255"  # the newest fair share first
    assert set(batch[1:4]) == set(bulk[:3])  # the bulk client's own fair share
    assert batch[4:] == bulk[3:99]  # then the backlog, oldest first
    queue.clear(batch)
    assert queue.count() == 1800 + 1 - 100
    assert "2104.12255" not in queue.batch(100)


def test_the_pending_queue_is_bounded_per_client_and_overall(redis_client):
    settings = stack_settings("", "", fetch_max_pending=120, fetch_max_pending_per_client=100)
    queue = PendingQueue(redis_client, settings)
    first = queue.add([f"2409.{n:05d}" for n in range(1, 151)], "203.0.113.9")
    assert len(first.added) == 100 and len(first.refused) == 50
    other = queue.add([f"2410.{n:05d}" for n in range(1, 41)], "198.51.100.7")
    assert len(other.added) == 20 and len(other.refused) == 20
    queue.clear(first.added[:10])  # fetched: the client may ask for more
    assert len(queue.add(["2411.00001"], "203.0.113.9").added) == 1


def test_polling_never_multiplies_drain_jobs(redis_url, redis_client):
    # No worker: the queue shows every job the visits made. The id has waited long
    # enough to look stranded, as during an arXiv outage.
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0))
    client = app.test_client()
    Store(redis_client).add_pending(["2403.00001"], now=time.time() - 600)
    for _ in range(48):
        assert client.get("/arxiv/2403.00001").status_code == 202
    assert Queue(keys.FETCH_QUEUE, connection=redis_client).count == 1


def test_a_flood_from_one_client_is_refused_past_its_bound(redis_url, redis_client):
    settings = stack_settings(
        redis_url, "http://127.0.0.1:9/api", fetch_wait=0, fetch_max_pending_per_client=60
    )
    client = create_app(settings).test_client()
    env = {"REMOTE_ADDR": "203.0.113.9"}
    statuses = [
        client.get(
            "/arxiv/" + ",".join(f"2409.{n:05d}" for n in range(k * 50 + 1, k * 50 + 51)),
            environ_base=env,
        ).status_code
        for k in range(3)
    ]
    assert statuses == [202, 202, 429]
    resp = client.get("/arxiv/2104.12255", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert resp.status_code == 202  # another reader is not refused
    assert "Too many papers" in client.get("/arxiv/2409.00150", environ_base=env).text
    # Within a page that also waits for a paper, a refused one is still said to be refused.
    waiting = create_app(dataclasses.replace(settings, fetch_wait=0.5)).test_client()
    mixed = waiting.get("/arxiv/2409.00001,2409.00140", environ_base=env)
    assert mixed.status_code == 202 and "Too many papers" in mixed.text


# --- drains against a real worker --------------------------------------------


def test_a_skipped_drain_reschedules_itself(stack, reset):
    # A worker died holding the drain lock (it frees itself in 2 s). The drain that
    # finds it taken must not finish as if all were done: the id is fetched with
    # nobody visiting again.
    client, store = stack.redis, Store(stack.redis)
    client.set(keys.FETCH_LOCK, "a-dead-worker", px=2000)
    PendingQueue(client, stack.settings).add(["2005.14124"])
    assert fetching.enqueue_drain(Queue(keys.FETCH_QUEUE, connection=client))
    # The drain stores the record, then takes the id off the pending set: wait for both.
    wait_until(
        lambda: store.get_blob("2005.14124") is not None and store.pending_count() == 0,
        timeout=30,
    )


def test_a_failed_drain_keeps_retrying_in_the_background(stack, reset):
    stack.replay.inject("drop", count=4, path="/api/query")  # two drains' worth (1 retry each)
    client, store = stack.redis, Store(stack.redis)
    PendingQueue(client, stack.settings).add(["2004.03322"])
    fetching.enqueue_drain(Queue(keys.FETCH_QUEUE, connection=client))
    # 5 s, then 15 s: the third drain succeeds with no visitor and no sweeper.
    # The reasons are cleared just after the record is stored: wait for both.
    wait_until(
        lambda: (
            store.get_blob("2004.03322") is not None
            and not client.exists(keys.fetch_error("2004.03322"), keys.fetch_reason("2004.03322"))
        ),
        timeout=90,
    )


# --- what the reader is told, and how fast ------------------------------------


def visit(stack, paper_id: str, **overrides):
    app = create_app(dataclasses.replace(stack.settings, **overrides))
    started = time.monotonic()
    resp = app.test_client().get(f"/arxiv/{paper_id}")
    return resp, time.monotonic() - started


def test_arxiv_errors_are_told_at_once(stack, reset):
    stack.replay.inject("status", count=100, status=503, path="/api/query")
    resp, took = visit(stack, "1412.6529", fetch_wait=8.0)
    assert resp.status_code == 503 and took < 8.0
    body = resp.text
    assert "arXiv answered with an error" in body
    assert "https://arxiv.org/abs/1412.6529" in body
    assert "HTTP 503" not in body and "127.0.0.1" not in body


def test_a_hanging_arxiv_is_told_within_the_wait(stack, reset):
    stack.replay.inject("hang", count=100, path="/api/query")
    resp, took = visit(stack, "1303.6954", fetch_wait=2.0)
    assert took < 2.0 + 1.5
    assert resp.status_code in (202, 503)
    body = resp.text
    assert ("slow to answer" in body) or ("did not answer" in body)
    assert "https://arxiv.org/abs/1303.6954" in body


def test_retry_after_is_told_with_the_time_of_the_retry(stack, reset):
    stack.replay.inject("status", count=5, status=503, retry_after=300, path="/api/query")
    resp, took = visit(stack, "1205.1866", fetch_wait=8.0)
    assert resp.status_code == 503 and took < 8.0
    assert "arXiv is rate-limiting us; retrying at " in resp.text
    assert 250 <= int(resp.headers["Retry-After"]) <= 302


def test_the_waiting_page_learns_at_once_that_the_paper_landed(redis_url, redis_client):
    # No worker: the test lands the record itself, as a drain would.
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0))
    client = app.test_client()
    page = client.get("/arxiv/2501.00042")
    assert page.status_code == 202 and 'data-watch="fetching:"' in page.text
    answered = {}

    def poll():
        resp = app.test_client().get("/arxiv/2501.00042?poll=fetching:")
        answered["t"], answered["json"] = time.monotonic(), resp.get_json()

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(1.0)  # the poll is held open meanwhile
    assert "t" not in answered
    Store(redis_client).upsert(Paper(id="2501.00042", version=1, title="Landed", source="api"))
    landed = time.monotonic()
    redis_client.publish(keys.FETCH_DONE, "2501.00042")
    thread.join(10)
    assert answered["json"] == {"changed": True}
    assert answered["t"] - landed < 0.5  # 0.1 s goal; margin for a loaded machine
    assert client.get("/arxiv/2501.00042").status_code == 200


@pytest.mark.slow
def test_a_real_first_visit_during_a_flood_waits_one_interval_at_most(tmp_path, replay):
    # 1,800 fresh ids from 36 bulk clients (50 each, within every bound), then a
    # reader opens one paper. At a 1 s interval the flood takes 18 calls; the reader's
    # paper must come in the next one.
    from papermirror import embedded

    server = embedded.start(tmp_path / "redis", appendonly=False)
    settings = stack_settings(server.url, replay.api_url, arxiv_min_interval=1.0, fetch_wait=8.0)
    stack = Stack(settings, server, replay)
    try:
        stack.add_worker()
        client = create_app(settings).test_client()
        flood = create_app(dataclasses.replace(settings, fetch_wait=0)).test_client()
        for k in range(36):
            ids = ",".join(f"2409.{n:05d}" for n in range(k * 50 + 1, k * 50 + 51))
            env = {"REMOTE_ADDR": f"203.0.113.{k + 1}"}
            assert flood.get(f"/arxiv/{ids}", environ_base=env).status_code in (202, 404)
        wait_until(lambda: len(replay.requests("/api/query")) >= 2, timeout=30)
        started = time.monotonic()
        resp = client.get("/arxiv/2407.18756", environ_base={"REMOTE_ADDR": "198.51.100.7"})
        took = time.monotonic() - started
        assert resp.status_code == 200
        assert took < settings.arxiv_min_interval + 1.5, took  # not 16 s behind the flood
        assert Store(stack.redis).pending_count() > 1000  # the flood was still queued
    finally:
        stack.stop()
