"""listing.js in headless Chromium: keyword highlight and filter, stars, kept in localStorage.

The page is the real listing of cs.AI for 2024-11-28, served by the app on a
loopback port. Playwright (playwright-core from the extension's node_modules)
drives Debian's chromium; nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.test_listings import loaded  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "extension" / "node_modules"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Whole words, any case, an optional plural, as filter.js matches (math aside: none here).
LANGUAGE_MODEL = re.compile(r"(?<![^\W_])language\s+models?(?![^\W_])", re.I)

SCRIPT = r"""
const { chromium } = require("playwright-core");
(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM,
                                          args: ["--no-sandbox"] });
  const page = await browser.newPage();
  const url = process.env.PAGE_URL;
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  // A stars value left in another shape (null here) must not break the page.
  await page.evaluate(() => localStorage.setItem("papermirror.stars", "null"));
  await page.reload();
  const count = () => page.locator("article.entry:not([hidden])").count();
  const out = { total: await count() };
  await page.fill("#keywords", "language model");
  await page.waitForSelector("mark", { state: "attached" });  // after the debounce
  out.marks = await page.locator("mark").count();
  await page.check("#only-matching");
  out.matching = await count();
  await page.locator("article.entry:not([hidden]) button.star").first().click();
  out.starredId = await page.locator("article.entry.starred").first().getAttribute("data-id");
  await page.reload();
  out.keywordsAfterReload = await page.inputValue("#keywords");
  out.matchingAfterReload = await count();
  await page.uncheck("#only-matching");
  await page.check("#only-starred");
  out.starredShown = await count();
  out.storage = await page.evaluate(() => ({ ...localStorage }));
  await page.locator("details.entry-abstract").first().evaluate((d) => { d.open = true; });
  out.errors = errors;
  console.log(JSON.stringify(out));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_highlight_filter_and_stars(loaded, tmp_path):  # noqa: F811
    # In CI a missing tool is a failure (.ci/run installs them); elsewhere, a skip.
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    if not (shutil.which("node") and (NODE_MODULES / "playwright-core").is_dir()):
        missing("needs node and extension/node_modules (npm ci in extension/)")
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is not installed")
    app = loaded.application
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = tmp_path / "listing.cjs"
        script.write_text(SCRIPT)
        env = {
            **os.environ,
            "NODE_PATH": str(NODE_MODULES),
            "CHROMIUM": CHROMIUM,
            "PAGE_URL": f"http://127.0.0.1:{server.server_port}/arxiv/cs.AI",
        }
        done = subprocess.run(
            ["node", str(script)], env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    api = loaded.get("/api/listings/cs.AI").get_json()
    assert out["total"] == len(api["papers"])
    names = [" ".join(a["name"] for a in p["authors"]) for p in api["papers"]]
    wanted = [
        p
        for p, n in zip(api["papers"], names, strict=True)
        if LANGUAGE_MODEL.search(f"{p['title']} {p['abstract']} {n}")
    ]
    assert out["marks"] >= len(wanted) > 0
    assert out["matching"] == len(wanted)
    assert out["keywordsAfterReload"] == "language model"
    assert out["matchingAfterReload"] == len(wanted)
    assert out["errors"] == []
    assert out["starredShown"] == 1
    stars = json.loads(out["storage"]["papermirror.stars"])
    assert list(stars) == [out["starredId"]]
