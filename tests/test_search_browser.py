# ruff: noqa: E501 (the JS run in the browser)
"""Search, related papers and the box in headless Chromium, on the real 2024-11-28 day.

The day is stored through the daily job's writer and indexed by the real indexer; the app
serves it on a loopback port; the harness is the listing tests' (Debian's chromium driven by
playwright-core from extension/node_modules).
"""

from __future__ import annotations

import threading

import pytest

from papermirror.arxiv.feeds import parse_feed
from papermirror.daily import store_day
from papermirror.listings import Listings
from papermirror.search.indexer import Indexer
from papermirror.search.tantivy_engine import TantivyEngine
from papermirror.store import Store
from server import create_app
from tests import browser
from tests.replay import load_fixture
from tests.stack import stack_settings
from tests.test_listings_browser import run
from tests.test_search import DAY, wait_indexed

pytestmark = pytest.mark.slow


@pytest.fixture
def site(redis_url, redis_client, tmp_path):
    """(base URL, test client) of the app over the indexed day."""
    browser.require_browser()
    feed = parse_feed(load_fixture(DAY))
    store_day(Store(redis_client), Listings(redis_client), feed, ["cs.AI"])
    indexer = Indexer(redis_client, tmp_path / "index", commit_delay=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), daemon=True)
    thread.start()
    wait_indexed(TantivyEngine(tmp_path / "index"), len(feed.items))
    settings = stack_settings(
        redis_url, "http://127.0.0.1:9/api", search_dir=str(tmp_path / "index")
    )
    app = create_app(settings)
    try:
        with browser.serving(app) as base:
            yield base, app.test_client()
    finally:
        stop.set()
        thread.join(10)


def test_results_stars_related_and_the_box(site, tmp_path):
    _, client = site
    api = client.get("/api/search", query_string={"q": "graphene"}).get_json()
    out = run(
        site,
        tmp_path,
        """
        await page.goto(base + "/search?q=graphene");
        out.entries = await page.locator("article.entry").count();
        out.titleMarks = await page.locator(".entry-title mark").count();
        const star = page.locator("article.entry button.star").first();
        await star.click();
        out.starred = await star.getAttribute("aria-pressed");
        await shot("search-results");
        await page.goto(base + "/arxiv/2411.18600");
        await page.waitForSelector(".related-list li", { timeout: 10000 });
        out.related = await page.locator(".related-list li").count();
        out.relatedHref = await page.locator(".related-list a").first().getAttribute("href");
        await page.fill("header form.go input[name=url]", "graphene");
        await Promise.all([page.waitForNavigation(), page.press("header form.go input[name=url]", "Enter")]);
        out.boxUrl = page.url();
        out.boxEntries = await page.locator("article.entry").count();
        """,
    )
    assert out["entries"] == len(api["papers"]) > 0
    assert out["titleMarks"] > 0
    assert out["starred"] == "true"
    assert 1 <= out["related"] <= 8 and out["relatedHref"].startswith("/arxiv/")
    assert "/search?q=graphene" in out["boxUrl"] and out["boxEntries"] > 0
