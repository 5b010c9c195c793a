"""The waiting page in headless Chromium: it shows the paper the moment its record lands.

The app (no worker: the test lands the record itself, as a drain would) is served
on a loopback port; Playwright (playwright-core from the extension's
node_modules) drives Debian's chromium; nothing is downloaded.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.serving import make_server

from papermirror import keys
from papermirror.records import Paper
from papermirror.store import Store
from server import create_app
from tests import browser
from tests.stack import stack_settings

pytestmark = pytest.mark.slow


SCRIPT = r"""
const { launch } = require(process.env.PM_BROWSER);
(async () => {
  const browser = await launch();
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const out = {};
  await page.goto(process.env.PAGE_URL);
  out.waiting = await page.locator("p.notice").innerText();
  out.link = await page.locator("p.hint a").getAttribute("href");
  console.log(JSON.stringify({ ready: true }));  // the test lands the record now
  await page.waitForSelector("h1.title:text('Landed in the mirror')", { timeout: 20000 });
  out.shownAt = Date.now() / 1000;
  out.errors = errors;
  console.log(JSON.stringify(out));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_the_waiting_page_shows_the_paper_as_soon_as_it_lands(redis_url, redis_client, tmp_path):
    browser.require_browser()
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = tmp_path / "fetching.cjs"
    script.write_text(SCRIPT)
    page_url = f"http://127.0.0.1:{server.server_port}/arxiv/2501.00099"
    node = browser.start_node(script, PAGE_URL=page_url)
    try:
        assert json.loads(node.stdout.readline()) == {"ready": True}, node.stderr.read()
        time.sleep(1.5)  # the page is long-polling by now; it must not have reloaded
        paper = Paper(id="2501.00099", version=1, title="Landed in the mirror", source="api")
        Store(redis_client).upsert(paper)
        landed = time.time()
        redis_client.publish(keys.FETCH_DONE, "2501.00099")
        stdout, stderr = node.communicate(timeout=60)
    finally:
        if node.poll() is None:
            node.kill()
        server.shutdown()
    assert node.returncode == 0, stderr
    out = browser.last_json(stdout)
    assert "Fetching this paper from arXiv" in out["waiting"]
    assert out["link"] == "https://arxiv.org/abs/2501.00099"
    assert out["errors"] == []
    # Goal 0.1 s from the record landing to the page showing it; 1 s on a loaded machine.
    assert out["shownAt"] - landed < 1.0, out["shownAt"] - landed
