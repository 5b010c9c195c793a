"""What people see, in headless Chromium: the home page's failure reason; /admin's sign-in.

The app is served on loopback (as ``localhost``, where browsers keep Secure
cookies over http); Playwright (playwright-core from the extension's
node_modules) drives Debian's chromium.
"""

from __future__ import annotations

import json

import pytest
from rq import Queue

from papermirror import keys
from server import create_app
from tests import browser
from tests.stack import stack_settings
from tests.test_admin import TOKEN, failed_job
from tests.test_errors import LEAKY

pytestmark = pytest.mark.slow

SCRIPT = r"""
const { launch } = require(process.env.PM_BROWSER);
(async () => {
  const browser = await launch();
  const base = process.env.BASE;
  const out = {};
  // A phone: the status table fits, and says what failed in plain words.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(base + "/");
  const table = phone.locator("table.fetch-status");
  out.statusText = await table.innerText();
  out.tableWidth = await table.evaluate((t) => t.getBoundingClientRect().width);
  const detail = table.locator(".detail");
  out.detailText = await detail.innerText();
  out.detailWidth = await detail.evaluate((d) => d.getBoundingClientRect().width);
  // The same table with the failure's reason taken out: the reason must not widen it.
  await detail.evaluate((d) => d.remove());
  out.tableWidthWithout = await table.evaluate((t) => t.getBoundingClientRect().width);
  out.viewport = 390;
  await phone.close();
  // The operator signs in with the form, sees the failed job, retries it.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + "/admin");
  out.loginShown = await page.locator("input[name=token]").count();
  await page.fill("input[name=token]", process.env.TOKEN);
  await Promise.all([page.waitForNavigation(), page.click("form[action='/admin/login'] button")]);
  out.afterLogin = await page.locator("h2", { hasText: "Failed jobs" }).innerText();
  out.cookies = await context.cookies();
  out.detailShown = (await page.content()).includes("HTTPSConnectionPool");
  await Promise.all([page.waitForNavigation(), page.click("button:has-text('Retry')")]);
  out.afterRetry = await page.locator("h2", { hasText: "Failed jobs" }).innerText();
  console.log(JSON.stringify(out));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_home_reason_fits_a_phone_and_admin_signs_in_and_retries(redis_url, redis_client, tmp_path):
    browser.require_browser()
    outcome = {"term": "cs.AI", "status": "error", "at": "2026-01-05T05:30:00Z",
               "error": LEAKY, "retry": True, "attempt": 1, "counts": {}}  # fmt: skip
    redis_client.hset(keys.FEED_STATUS, "cs.AI", json.dumps(outcome))
    redis_client.set(keys.fetch_error("2101.00001"), LEAKY, ex=60)
    job_id = failed_job(redis_client)
    app = create_app(
        stack_settings(
            redis_url, "http://127.0.0.1:9/api", admin_token=TOKEN, categories=("cs.AI",)
        )
    )
    script = tmp_path / "admin.cjs"
    script.write_text(SCRIPT)
    with browser.serving(app, name="localhost") as base:
        out = browser.run_node(script, timeout=120, BASE=base, TOKEN=TOKEN)
    assert "arXiv did not answer" in out["statusText"]
    assert "rss.arxiv.org" not in out["statusText"] and "Errno" not in out["statusText"]
    # The reason is a few words that fit their cell; the table's own width on a phone
    # (seven columns) is the page layout's business, not the reason's.
    assert len(out["detailText"]) < 80 and out["detailWidth"] < out["viewport"] / 2
    # At most a word's width more (a 400-character exception made it several screens wide).
    assert out["tableWidth"] <= out["tableWidthWithout"] * 1.05
    assert out["loginShown"] == 1
    assert out["afterLogin"] == "Failed jobs: 1" and out["detailShown"]
    [cookie] = out["cookies"]
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Strict")
    assert cookie["value"] != TOKEN
    assert out["afterRetry"] == "Failed jobs: 0"
    assert job_id in Queue(keys.FETCH_QUEUE, connection=redis_client).job_ids
