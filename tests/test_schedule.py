"""Scheduling: RQ's real cron machinery on a controlled clock, and the retries on a real worker."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest
import rq.cron
from rq import Queue
from rq.cron import CronScheduler
from rq.registry import ScheduledJobRegistry

from papermirror import embedded, keys
from papermirror.categories import parse_spec
from papermirror.listings import Listings
from tests.replay import Reply, load_fixture
from tests.stack import Stack, stack_settings

FOUR = "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml"
FOUR_PATH = "/rss/cs.LG+cs.AI+cs.CL+stat.ML"


class Clock:
    """RQ's notion of now (rq.cron.now), set by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def set(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso).replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """A controlled clock for rq.cron; the process's TZ is restored afterwards."""
    saved = os.environ.get("TZ")
    clock = Clock()
    monkeypatch.setattr(rq.cron, "now", clock)
    yield clock
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def load_schedule(redis_client) -> CronScheduler:
    """What `rq cron worker.schedule` does before its loop."""
    scheduler = CronScheduler(connection=redis_client)
    scheduler.load_config_from_file("worker.schedule")
    return scheduler


def daily_runs(scheduler: CronScheduler) -> int:
    """How many daily fetches the scheduler enqueues now (the half-hourly catch-up aside)."""
    return sum(j.name == "daily-feeds" for j in scheduler.enqueue_jobs())


def test_weekdays_after_midnight_eastern_across_dst(redis_client, clock):
    clock.set("2026-03-05T17:00:00")  # Thursday, noon in New York
    scheduler = load_schedule(redis_client)
    jobs = {j.name: j for j in scheduler.get_jobs()}
    catch_up, job = jobs["daily-feeds-catch-up"], jobs["daily-feeds"]
    assert catch_up.func_name == "worker.feeds.catch_up" and catch_up.interval == 1800
    assert job.func_name == "worker.feeds.daily_fetch" and job.kwargs == {"expect": "today"}
    assert job.queue_name == keys.FETCH_QUEUE
    assert job.next_enqueue_time == datetime(2026, 3, 6, 5, 30, tzinfo=UTC)  # 00:30 EST
    # The catch-up and the sweeper run as the scheduler starts; the daily fetch waits.
    assert [j.name for j in scheduler.enqueue_jobs()] == ["daily-feeds-catch-up", "pending-sweeper"]
    queue = Queue(keys.FETCH_QUEUE, connection=redis_client)
    queue.empty()

    clock.set("2026-03-06T05:29:59")
    assert daily_runs(scheduler) == 0
    clock.set("2026-03-06T05:30:00")
    assert daily_runs(scheduler) == 1
    daily = [j for j in queue.jobs if j.func_name == "worker.feeds.daily_fetch"]
    assert [j.kwargs for j in daily] == [{"expect": "today"}]
    # Nothing on Saturday or Sunday; Monday after the switch to daylight time is 04:30 UTC.
    assert job.next_enqueue_time == datetime(2026, 3, 9, 4, 30, tzinfo=UTC)
    for moment in ("2026-03-07T05:30:00", "2026-03-08T05:30:00", "2026-03-09T04:29:00"):
        clock.set(moment)
        assert daily_runs(scheduler) == 0
    clock.set("2026-03-09T04:30:00")
    assert daily_runs(scheduler) == 1


def test_the_daily_time_is_configurable(redis_client, clock, monkeypatch):
    monkeypatch.setenv("PAPERMIRROR_DAILY_TIME", "06:15")
    clock.set("2026-07-03T12:00:00")  # Friday
    jobs = {j.name: j for j in load_schedule(redis_client).get_jobs()}
    assert jobs["daily-feeds"].next_enqueue_time == datetime(2026, 7, 6, 10, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def retry_stack(tmp_path_factory, replay):
    """Redis and a real worker whose daily job retries after 0.3 s."""
    server = embedded.start(tmp_path_factory.mktemp("redis"), appendonly=False)
    settings = stack_settings(
        server.url,
        replay.api_url,
        arxiv_rss_url=replay.url + "/rss/",
        categories=("cs.LG", "cs.AI", "cs.CL", "stat.ML"),
        daily_retries=2,
        daily_retry_delay=0.3,
    )
    stack = Stack(settings, server, replay)
    stack.add_worker()
    yield stack
    stack.stop()


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def test_the_job_retries_while_the_feed_shows_the_previous_day(retry_stack, replay):
    replay.clear()
    stale = load_fixture(FOUR).replace(b"Thu, 24 Sep 2026", b"Wed, 23 Sep 2026")
    served = []

    def feed(_request):
        # arXiv rebuilds the feed between the first and the second try.
        served.append(1)
        return Reply(200, stale if len(served) == 1 else load_fixture(FOUR), {})

    replay.route(FOUR_PATH, feed)
    client = retry_stack.redis
    Queue(keys.FETCH_QUEUE, connection=client).enqueue(
        "worker.feeds.daily_fetch", kwargs={"expect": "2026-09-24"}
    )
    listings = Listings(client)
    wait_for(lambda: listings.outcomes(["cs.AI"]).get("cs.AI", {}).get("status") == "ok")
    status = listings.outcomes(["cs.AI"])["cs.AI"]
    assert status["attempt"] == 2 and status["date"] == "2026-09-24"
    assert listings.has_day(parse_spec("cs.AI"), "2026-09-24")
    assert len(replay.requests("/rss/")) == 2


def test_the_job_gives_up_after_its_retries(retry_stack, replay):
    replay.clear()
    stale = load_fixture(FOUR).replace(b"Thu, 24 Sep 2026", b"Wed, 23 Sep 2026")
    replay.route(FOUR_PATH, stale, content_type="application/rss+xml")
    client = retry_stack.redis
    Queue(keys.FETCH_QUEUE, connection=client).enqueue(
        "worker.feeds.daily_fetch", kwargs={"expect": "2026-09-25"}
    )
    listings = Listings(client)
    wait_for(lambda: listings.outcomes(["cs.AI"]).get("cs.AI", {}).get("attempt") == 3)
    time.sleep(1.0)  # a fourth try would be scheduled by now
    assert len(replay.requests("/rss/")) == 3
    assert not ScheduledJobRegistry(keys.FETCH_QUEUE, connection=client).get_job_ids()
    status = listings.outcomes(["cs.AI"])["cs.AI"]
    assert status["status"] == "stale" and "2026-09-23" in status["error"]
