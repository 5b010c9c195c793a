"""The FAQ in headless Chromium: click, watch the answers stream in, see the math rendered.

The app serves a real paper page on a loopback port; a real `rq worker`
process runs the generation against the local OpenAI-compatible server,
slowed down so the streaming shows; MathJax 3 is served from the
django-static-mathjax wheel, so no CDN is reached. Playwright
(playwright-core from the extension's node_modules) drives Debian's chromium.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from papermirror import keys
from papermirror.faq.generate import Generator
from papermirror.listings import Entry, Listings
from server import create_app
from tests import browser, faqkit
from tests.llm_server import LlmServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
const { launch } = require(process.env.PM_BROWSER);
(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const out = { errors: [], dialogs: 0 };
  page.on("pageerror", (e) => out.errors.push(String(e)));
  page.on("dialog", async (d) => { out.dialogs += 1; await d.dismiss(); });
  await page.goto(process.env.PAGE_URL);
  await page.click("section.faq button.faq-open");
  // Answers appear while the model still writes.
  await page.waitForSelector(".faq-a.faq-writing", { timeout: 60000 });
  out.writingSeen = await page.locator(".faq-a.faq-writing").count();
  out.doneAtFirstText = await page.locator(".faq-meta button.faq-regenerate").count();
  await page.waitForSelector(".faq-meta button.faq-regenerate", { timeout: 120000 });
  await page.waitForFunction(
    () => document.querySelectorAll(".faq-a .katex, .faq-a mjx-container").length >= 6, null,
    { timeout: 60000 });
  out.math = await page.locator(".faq-a .katex, .faq-a mjx-container").count();
  out.rawDollars = await page.locator(".faq-a").first()
    .evaluate((e) => e.textContent.includes("$"));
  out.questions = await page.locator(".faq-q h3").allTextContents();
  out.tldr = await page.locator(".faq-tldr").textContent();
  out.meta = await page.locator(".faq-meta").textContent();
  out.pwned = await page.evaluate(() => window.pwned === 1);
  out.hostileShown = await page.locator(".faq-a").first().textContent();
  out.links = await page.locator(".faq-a a")
    .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  // Back on the page later: the cached FAQ shows by itself.
  await page.goto(process.env.PAGE_URL);
  await page.waitForSelector("section.faq .faq-meta button.faq-regenerate", { timeout: 30000 });
  out.shownOnLoad = await page.locator("section.faq .faq-q").count();
  // A paper now at v2 whose FAQ was made for v1: offered, marked as such.
  await page.goto(process.env.V2_URL);
  await page.waitForSelector("button.faq-older", { timeout: 30000 });
  out.olderOffer = await page.locator(".faq-status").textContent();
  await page.click("button.faq-older");
  await page.waitForSelector(".faq-meta .faq-old", { timeout: 30000 });
  out.oldMark = await page.locator(".faq-meta .faq-old").textContent();
  out.makeNewer = await page.locator(".faq-meta button.faq-newer").textContent();
  // The listing: the entry's FAQ button shows the cached FAQ in place.
  await page.goto(process.env.LISTING_URL);
  await page.click(`article.entry[data-id="${process.env.PAPER_ID}"] button.faq-open`);
  await page.waitForSelector("article.entry .faq-meta button.faq-regenerate", { timeout: 30000 });
  out.listingAnswers = await page.locator("article.entry .faq-q").count();
  console.log(JSON.stringify(out));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
"""

OLDER = "2104.12255"
HOSTILE = (
    '\n\n<script>window.pwned = 1</script> <img src=x onerror="window.pwned = 1">'
    " [click](javascript:window.pwned=1)"
)


def answer(messages):
    text = faqkit.answer(messages)
    return text if text == faqkit.TLDR else text + HOSTILE


def serve(app_or_dir):
    if isinstance(app_or_dir, Path):
        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(app_or_dir))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    else:
        server = make_server("127.0.0.1", 0, app_or_dir, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_click_faq_and_see_answers_stream_in_with_math(redis_url, redis_client, tmp_path):
    browser.require_browser()
    import mathjax  # django-static-mathjax: MathJax 3's files

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    faqkit.put_paper(redis_client)
    Listings(redis_client).write_day("2025-01-20", {"cs.CL": [Entry(faqkit.PAPER_ID, "new", 1)]})
    servers, worker = [], None
    with LlmServer(answer=answer, chunk_delay=0.02) as llm:
        try:
            servers.append(static := serve(es5))
            settings = faqkit.faq_settings(
                redis_url,
                llm.url,
                faq_fulltext="never",
                mathjax_url=f"http://127.0.0.1:{static.server_port}/tex-chtml.js",
            )
            # Another paper had its FAQ made at v1, and arXiv has a v2 since.
            faqkit.put_paper(redis_client, paper_id=OLDER)
            Generator(settings, redis_client, None).run(OLDER, 1, "en")
            faqkit.put_paper(redis_client, paper_id=OLDER, version=2)
            servers.append(web := serve(create_app(settings)))
            env = {**os.environ, **settings.to_env(), "RQ_REDIS_URL": redis_url}
            worker = subprocess.Popen(
                [sys.executable, "-m", "rq.cli", "worker", "--url", redis_url, *keys.FAQ_QUEUES],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            script = tmp_path / "faq.cjs"
            script.write_text(SCRIPT)
            base = f"http://127.0.0.1:{web.server_port}"
            out = browser.run_node(
                script,
                timeout=240,
                PAGE_URL=f"{base}/arxiv/{faqkit.PAPER_ID}",
                LISTING_URL=f"{base}/arxiv/cs.CL?date=2025-01-20",
                PAPER_ID=faqkit.PAPER_ID,
                V2_URL=f"{base}/arxiv/{OLDER}",
            )
        finally:
            if worker:
                worker.terminate()
                worker.wait(10)
            for s in servers:
                s.shutdown()
    assert out["errors"] == []
    assert out["writingSeen"] >= 1 and out["doneAtFirstText"] == 0  # text before the end
    assert out["math"] >= 6 and not out["rawDollars"]  # MathJax rendered every formula
    assert len(out["questions"]) == 6
    assert out["tldr"] == f"TL;DR: {faqkit.TLDR}"
    assert "Made by test-model" in out["meta"] and "from the abstract of v1" in out["meta"]
    # Hostile output: shown as text, never run.
    assert out["dialogs"] == 0 and out["pwned"] is False
    assert "<script>window.pwned = 1</script>" in out["hostileShown"]
    assert all(not h.lower().startswith("javascript") for h in out["links"])
    assert out["listingAnswers"] == 6
    assert out["shownOnLoad"] == 6
    assert "FAQ of version 1" in out["olderOffer"] and "none yet for version 2" in out["olderOffer"]
    assert out["oldMark"].startswith("This FAQ is of v1; the paper is now at v2")
    assert out["makeNewer"] == "Make the FAQ for v2"
