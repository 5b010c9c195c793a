"""Listings on demand: an unfollowed category is fetched on a visit, once, and then followed.

Real Redis, a real `rq worker` process and the replay server's real 2024-11-28 feed.
"""

from __future__ import annotations

import re
import time

import pytest
from rq import Queue
from rq.registry import FinishedJobRegistry, StartedJobRegistry

from papermirror import embedded, keys
from papermirror.categories import parse_spec
from papermirror.listings import Listings
from papermirror.ondemand import DAY, OnDemand, followed_terms, visited_terms
from server import create_app
from tests.replay import load_fixture
from tests.stack import Stack, stack_settings
from tests.test_listings import ALL_FEED, feed_items
from tests.test_listings import DAY as FEED_DAY

FOUR = "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml"


def on_demand_jobs(stack) -> list[str]:
    """Ids of the on-demand fetch jobs that ran (or run) on the stack's queue."""
    queue = Queue(keys.FETCH_QUEUE, connection=stack.redis)
    ids = (
        FinishedJobRegistry(queue=queue).get_job_ids()
        + StartedJobRegistry(queue=queue).get_job_ids()
    )
    return [
        i
        for i in ids
        if (job := queue.fetch_job(i)) and job.func_name == "worker.feeds.fetch_on_demand"
    ]


def one_fetch(replay, path: str) -> bool:
    """One feed fetch: one request, or a few when a loaded machine timed one out and retried."""
    return 1 <= len(replay.requests(path)) <= 3


def wait_until(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


@pytest.fixture
def mirror(tmp_path, replay):
    """A stack following cs.AI only, its feeds on the replay server, with one worker."""
    server = embedded.start(tmp_path / "redis", appendonly=False)
    settings = stack_settings(
        server.url,
        replay.api_url,
        arxiv_rss_url=replay.url + "/rss/",
        categories=("cs.AI",),
        follow_visited_days=3,
    )
    stack = Stack(settings, server, replay)
    try:
        stack.add_worker()
        yield stack
    finally:
        stack.stop()
        replay.clear()


def test_an_unfollowed_category_is_fetched_once_on_a_visit_and_then_followed(mirror, replay):
    replay.route("/rss/cs.CR", ALL_FEED)
    client = create_app(mirror.settings).test_client()
    first = client.get("/arxiv/cs.CR")
    html = first.get_data(as_text=True)
    # A waiting page that reloads itself, and no operator command shown to a reader.
    assert first.status_code == 202 and first.headers["Cache-Control"] == "no-store"
    assert '<meta http-equiv="refresh"' in html and "Fetching the latest listing of cs.CR" in html
    assert "papermirror fetch" not in html
    # Visits while the fetch is pending join it.
    for _ in range(5):
        assert client.get("/arxiv/cs.CR").status_code in (200, 202)
    page = wait_until(lambda: (r := client.get("/arxiv/cs.CR")).status_code == 200 and r)
    wanted = {i["id"] for i in feed_items(load_fixture(ALL_FEED)) if "cs.CR" in i["categories"]}
    shown = set(re.findall(r'<article class="entry" id="([^"]+)"', page.get_data(as_text=True)))
    assert shown == wanted and len(wanted) > 10
    assert len(on_demand_jobs(mirror)) == 1 and one_fetch(replay, "/rss/cs.CR")
    requests_so_far = len(replay.requests("/rss/cs.CR"))
    # Followed from now on: the daily job fetches it with the configured cs.AI.
    assert followed_terms(mirror.settings, mirror.redis) == ["cs.AI", "cs.CR"]
    assert Listings(mirror.redis).latest(parse_spec("cs.CR")) == FEED_DAY
    # Another visit neither fetches nor queues anything.
    queued = Queue(keys.FETCH_QUEUE, connection=mirror.redis).count
    assert client.get("/arxiv/cs.CR").status_code == 200
    assert Queue(keys.FETCH_QUEUE, connection=mirror.redis).count == queued
    time.sleep(0.5)
    assert len(replay.requests("/rss/cs.CR")) == requests_so_far
    assert len(on_demand_jobs(mirror)) == 1
    # The home page lists it as followed and marks the categories that have data.
    home = client.get("/").get_data(as_text=True)
    assert re.search(r"Also followed for now.*cs\.CR", home)
    marked = re.findall(r'<li class="has-data"><label><input [^>]*value="([^"]+)"', home)
    assert marked == ["cs.CR"]


def test_a_failed_on_demand_fetch_says_so_and_waits_before_retrying(mirror, replay):
    replay.route("/rss/math.PR", b"nope", status=500)
    client = create_app(mirror.settings).test_client()
    assert client.get("/arxiv/math.PR").status_code == 202
    page = wait_until(lambda: (r := client.get("/arxiv/math.PR")).status_code == 200 and r)
    html = page.get_data(as_text=True)
    assert "could not be reached" in html and 'content="60"' in html
    assert "HTTP 500" not in html and "Traceback" not in html
    calls = len(replay.requests("/rss/math.PR"))
    client.get("/arxiv/math.PR")
    time.sleep(0.5)
    assert len(replay.requests("/rss/math.PR")) == calls  # held for a minute


def test_a_fresh_install_fetches_its_followed_categories_at_once(mirror, replay):
    # The catch-up job, which rq cron runs as it starts, finds cs.AI never fetched.
    replay.route("/rss/cs.AI", FOUR)
    Queue(keys.FETCH_QUEUE, connection=mirror.redis).enqueue("worker.feeds.catch_up")
    listings = Listings(mirror.redis)
    wait_until(lambda: listings.latest(parse_spec("cs.AI")), timeout=60)
    assert listings.outcomes(["cs.AI"])["cs.AI"]["status"] in ("ok", "stale")


def test_visits_decide_what_is_due(redis_client):
    settings = stack_settings("redis://unused", "http://127.0.0.1:9/api", categories=("cs",))
    demand = OnDemand(settings, redis_client)
    assert demand.unfollowed(parse_spec("cs.AI,math.PR,hep-th")) == ["hep-th", "math.PR"]
    now = 1_700_000_000.0
    assert demand.visit(["math.PR"], now) == ["math.PR"]  # never visited
    # Visited, but no listing yet (the fetch is still under way or found nothing).
    assert demand.visit(["math.PR"], now + 1) == ["math.PR"]
    Listings(redis_client).write_day("2024-11-28", {"math.PR": []})
    assert demand.visit(["math.PR"], now + 2) == []  # followed, and has a listing
    # Past the follow period it is due again.
    assert demand.visit(["math.PR"], now + 9 * DAY) == ["math.PR"]
    assert visited_terms(redis_client, settings.follow_visited_days, now + 9 * DAY) == ["math.PR"]
    assert visited_terms(redis_client, settings.follow_visited_days, now + 20 * DAY) == []
    # Claims coalesce: one caller wins until the fetch releases it.
    assert demand.claim(["math.PR", "hep-th"]) == ["math.PR", "hep-th"]
    assert demand.claim(["math.PR"]) == []
    demand.release(["math.PR"], failed=["math.PR"])
    assert demand.pending(["math.PR", "hep-th"]) == {"math.PR": "failed", "hep-th": "queued"}
    # A term fetched in the last hour is not due again on a visit.
    Listings(redis_client).record_outcomes(
        [{"term": "astro-ph", "status": "empty", "at": time.strftime("%Y-%m-%dT%H:%M:%SZ")}]
    )
    assert demand.visit(["astro-ph"]) == []


def test_a_feed_reader_polling_an_unfollowed_category_gets_it_fetched(mirror, replay):
    replay.route("/rss/hep-ex", ALL_FEED)
    client = create_app(mirror.settings).test_client()
    assert client.get("/arxiv/hep-ex/feed").status_code == 404  # nothing yet: no waiting page
    feed = wait_until(lambda: (r := client.get("/arxiv/hep-ex/feed")).status_code == 200 and r)
    assert b"<entry>" in feed.data and "hep-ex" in visited_terms(mirror.redis, 3)
    assert len(on_demand_jobs(mirror)) == 1 and one_fetch(replay, "/rss/hep-ex")


@pytest.mark.slow
def test_the_waiting_page_turns_into_the_listing_in_a_browser(mirror, replay, tmp_path):
    from tests import browser
    from tests.test_listings_browser import run

    browser.require_browser()
    replay.route("/rss/cs.CR", ALL_FEED)
    replay.inject("slow", path="/rss/cs.CR", delay=1.5)  # the waiting page is seen first
    body = r"""
  await page.goto(`${base}/arxiv/cs.CR`);
  out.waiting = await page.locator("main").innerText();
  await shot("waiting");
  await page.waitForSelector("article.entry", { timeout: 60000 });
  out.entries = await page.locator("article.entry").count();
  out.url = new URL(page.url()).pathname;
"""
    with browser.serving(create_app(mirror.settings)) as base:
        out = run((base, None), tmp_path, body)  # fails on any script error
    assert "Fetching the latest listing of cs.CR" in out["waiting"]
    wanted = {i["id"] for i in feed_items(load_fixture(ALL_FEED)) if "cs.CR" in i["categories"]}
    assert out["entries"] == len(wanted) and out["url"] == "/arxiv/cs.CR"
