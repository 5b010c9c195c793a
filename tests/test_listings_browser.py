# ruff: noqa: E501 (the JS run in the browser)
"""Listing pages and inputs in headless Chromium, against the real 2024-11-28 feed.

The app serves the all-archives feed of 2024-11-28 on a loopback port. Playwright
(playwright-core from the extension's node_modules) drives Debian's chromium; nothing is
downloaded. Each test runs one small script and checks what it reports against the feed,
computed here independently (Python's re, not filter.js). Screenshots go to
test-artifacts/listings/.
"""

from __future__ import annotations

import json
import re

import pytest

from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.daily import fetch_daily
from tests import browser
from tests.stack import stack_settings
from tests.test_listings import ALL_FEED, ARCHIVES

pytestmark = pytest.mark.slow

ARTIFACTS = browser.ARTIFACTS / "listings"
MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<!\\)\$(?:\\\$|[^$])+?\$", re.S)

HARNESS = r"""
const { launch } = require(process.env.PM_BROWSER);
(async () => {
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const base = process.env.BASE;
  const shot = (name) => page.screenshot({ path: `${process.env.ARTIFACTS}/${name}.png`,
                                           fullPage: false });
  const visible = () => page.locator("article.entry:not([hidden])").count();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const out = {};
  const typeKeywords = async (text) => {
    await page.fill("#keywords", text);
    await page.waitForTimeout(400);  // past the 150 ms debounce
  };
  try {
    await (async () => { BODY })();
  } finally {
    out.errors = errors;
    console.log(JSON.stringify(out));
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.fixture
def site(redis_url, redis_client, replay, tmp_path):
    """The 2024-11-28 feed stored, the app on a loopback port: (base URL, test client)."""
    browser.require_browser()
    replay.route("/rss/" + "+".join(ARCHIVES), ALL_FEED)
    settings = stack_settings(
        redis_url,
        replay.api_url,
        arxiv_rss_url=replay.url + "/rss/",
        categories=ARCHIVES,
        fetch_wait=0.2,  # papers not in the feed: the page says "fetching" at once
    )
    session = PoliteSession(settings, ArxivLimiter(redis_client, settings.arxiv_min_interval))
    assert fetch_daily(settings, redis_client, session).papers == 1504
    from server import create_app

    app = create_app(settings)
    with browser.serving(app) as base:
        yield base, app.test_client()


def run(site, tmp_path, body: str) -> dict:
    """Run ``body`` (JS with page, base, out, visible, shot, typeKeywords) in Chromium."""
    base, _ = site
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    script = tmp_path / "page.cjs"
    script.write_text(HARNESS.replace("BODY", body))
    out = browser.run_node(script, BASE=base, ARTIFACTS=str(ARTIFACTS))
    assert out.pop("errors") == []
    return out


def papers(site, spec: str) -> list[dict]:
    return site[1].get(f"/api/listings/{spec}").get_json()["papers"]


def words(term: str) -> re.Pattern:
    """A keyword as the filter means it: whole words, any case, an optional plural."""
    body = r"\s+".join(map(re.escape, term.split()))
    return re.compile(rf"(?<![^\W_]){body}(?:e?s)?(?![^\W_])", re.I)


def outside_math(text: str) -> str:
    return MATH.sub(" ", text)


def fields(p: dict) -> dict[str, str]:
    return {
        "title": outside_math(p["title"]),
        "authors": ", ".join(a["name"] for a in p["authors"]),
        "abstract": outside_math(p["abstract"]),
    }


def test_highlight_filter_and_stars(site, tmp_path):
    out = run(
        site,
        tmp_path,
        r"""
  await page.goto(`${base}/arxiv/cs.AI`);
  // A stars value left in another shape (null here) must not break the page.
  await page.evaluate(() => localStorage.setItem("papermirror.stars", "null"));
  await page.reload();
  out.total = await visible();
  await typeKeywords("language model");
  out.marks = await page.locator("mark").count();
  await page.check("#only-matching");
  out.matching = await visible();
  await page.locator("article.entry:not([hidden]) button.star").first().click();
  out.starredId = await page.locator("article.entry.starred").first().getAttribute("data-id");
  out.starLabel = await page.locator("article.entry.starred button.star").getAttribute("aria-label");
  await page.reload();
  out.keywordsAfterReload = await page.inputValue("#keywords");
  out.matchingAfterReload = await visible();
  await page.uncheck("#only-matching");
  await page.check("#only-starred");
  out.starredShown = await visible();
  out.storage = await page.evaluate(() => ({ ...localStorage }));
""",
    )
    api = papers(site, "cs.AI")
    assert out["total"] == len(api)
    wanted = [p for p in api if any(words("language model").search(t) for t in fields(p).values())]
    assert out["marks"] >= len(wanted) > 0
    assert out["matching"] == len(wanted)
    assert out["keywordsAfterReload"] == "language model"
    assert out["matchingAfterReload"] == len(wanted)
    assert out["starredShown"] == 1
    stars = json.loads(out["storage"]["papermirror.stars"])
    assert list(stars) == [out["starredId"]]
    title = next(p["title"] for p in api if p["id"] == out["starredId"])
    assert out["starLabel"] == f"Unstar: {title}"


def test_word_boundaries_exclusion_and_abstract_only_hits(site, tmp_path):
    out = run(
        site,
        tmp_path,
        r"""
  await page.goto(`${base}/arxiv/cs.AI`);
  const state = async () => page.evaluate(() => ({
    marks: Array.from(document.querySelectorAll("mark"), (m) => m.textContent),
    matched: Array.from(document.querySelectorAll("article.entry.match"), (e) => e.dataset.id),
    shown: Array.from(document.querySelectorAll("article.entry:not([hidden])"), (e) => e.dataset.id),
    abstractOnly: Array.from(document.querySelectorAll("article.entry"))
      .filter((e) => !e.querySelector(".abstract-hit").hidden).map((e) => e.dataset.id),
  }));
  await typeKeywords("RL");
  out.rl = await state();
  await shot("filter-rl");
  await page.check("#only-matching");
  await typeKeywords("language model, -survey");
  out.excluded = await state();
  await typeKeywords('"large language model"');
  out.phrase = await state();
  await shot("filter-phrase");
""",
    )
    api = papers(site, "cs.AI")
    by_field = {p["id"]: fields(p) for p in api}

    def hits(term, pid):
        return [f for f, text in by_field[pid].items() if words(term).search(text)]

    rl = [p["id"] for p in api if hits("RL", p["id"])]
    assert sorted(out["rl"]["matched"]) == sorted(rl) and rl
    # Every mark is the whole word RL (or RLs): never the "rl" of "world".
    assert out["rl"]["marks"] and {m.upper() for m in out["rl"]["marks"]} <= {"RL", "RLS"}
    assert any("world" in p["abstract"].lower() and p["id"] not in rl for p in api)
    only_abstract = [pid for pid in rl if hits("RL", pid) == ["abstract"]]
    assert sorted(out["rl"]["abstractOnly"]) == sorted(only_abstract) and only_abstract
    # "-survey" drops papers that mention a survey anywhere.
    excluded = [
        p["id"] for p in api if hits("language model", p["id"]) and not hits("survey", p["id"])
    ]
    assert sorted(out["excluded"]["shown"]) == sorted(excluded)
    assert len(excluded) < len([p for p in api if hits("language model", p["id"])])
    phrase = [p["id"] for p in api if hits("large language model", p["id"])]
    assert sorted(out["phrase"]["shown"]) == sorted(phrase) and phrase


def test_a_keyword_beside_math_is_marked_outside_math_only(site, tmp_path):
    out = run(
        site,
        tmp_path,
        r"""
  await page.goto(`${base}/arxiv/hep-th`);
  const card = page.locator('article.entry[data-id="2411.18509"]');
  await page.click("#expand-all");
  out.expanded = await page.locator("details.entry-abstract[open]").count();
  out.details = await page.locator("details.entry-abstract").count();
  out.before = await card.innerText();
  // Each highlightable element: its text, and where the marks are in it.
  const marks = () => page.evaluate(() => Array.from(document.querySelectorAll(".entry .hl"), (el) => {
    const found = [];
    let text = "";
    const walk = (node) => {
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) text += child.data;
        else if (child.nodeName === "MARK") {
          found.push([text.length, text.length + child.textContent.length]);
          text += child.textContent;
        } else walk(child);
      }
    };
    walk(el);
    return { id: el.closest("article").dataset.id, text, marks: found };
  }));
  // The issue's case: on hep-th, "times" and "beta" appear only inside math (\times, \beta).
  await typeKeywords("times, beta");
  out.timesBeta = await marks();
  out.timesBetaMatched = await page.locator("article.entry.match").count();
  out.after = await card.innerText();
  // Words that also appear in plain text: "time" (whose plural is the "times" of \times), N.
  await typeKeywords("time, N");
  out.timeN = await marks();
  out.markInMath = await page.locator("mjx-container mark, .katex mark, math mark").count();
  out.cardMarks = await card.locator("mark").count();
  out.cardMath = await card.locator(".math .katex").count();
  await card.scrollIntoViewIfNeeded();
  await shot("highlight-beside-math");
""",
    )
    assert out["expanded"] == out["details"] > 0

    def check(elements, wanted):
        count = 0
        for el in elements:
            spans = [(m.start(), m.end()) for m in MATH.finditer(el["text"])]
            for a, b in el["marks"]:
                count += 1
                assert el["text"][a:b].lower() in wanted, el
                assert all(b <= s or a >= e for s, e in spans), (el["id"], el["text"][a - 20 : b])
        return count

    assert check(out["timesBeta"], ()) == 0 and out["timesBetaMatched"] == 0
    hep = papers(site, "hep-th")
    plain = sum(
        len(words("time").findall(t)) + len(re.findall(r"(?<![^\W_])Ns?(?![^\W_])", t, re.I))
        for p in hep
        for t in fields(p).values()
    )
    assert check(out["timeN"], ("time", "times", "n", "ns")) == plain > 0
    assert out["markInMath"] == 0
    # 2411.18509 has \times, \beta and N only inside math: no marks, its text untouched.
    assert out["cardMarks"] == 0 and out["after"] == out["before"]
    # Its math is typeset by the bundled KaTeX (title and abstract), with no mark inside.
    assert out["cardMath"] >= 2


def test_only_matching_and_only_starred_stay_per_listing(site, tmp_path):
    out = run(
        site,
        tmp_path,
        r"""
  await page.goto(`${base}/arxiv/cs.AI`);
  await typeKeywords("language model");
  await page.check("#only-matching");
  await page.check("#only-starred");
  out.csAI = await visible();
  out.emptyNote = await page.isVisible(".filter-empty");
  await page.goto(`${base}/arxiv/math.PR`);
  out.mathPR = await visible();
  out.mathPRChecks = [await page.isChecked("#only-matching"), await page.isChecked("#only-starred")];
  out.mathPRKeywords = await page.inputValue("#keywords");
  out.mathPRShown = await page.textContent(".toolbar .shown");
  await page.goto(`${base}/arxiv/cs.AI`);
  out.csAIChecks = [await page.isChecked("#only-matching"), await page.isChecked("#only-starred")];
  await page.click("button.show-all");
  out.afterShowAll = await visible();
""",
    )
    assert out["csAI"] == 0 and out["emptyNote"] is True
    assert out["mathPR"] == len(papers(site, "math.PR")) == 24
    assert out["mathPRChecks"] == [False, False] and out["mathPRShown"] == ""
    assert out["mathPRKeywords"] == "language model"  # keywords are one list everywhere
    assert out["csAIChecks"] == [True, True]
    assert out["afterShowAll"] == len(papers(site, "cs.AI"))


def test_expand_all_folded_authors_and_keys(site, tmp_path):
    out = run(
        site,
        tmp_path,
        r"""
  await page.goto(`${base}/arxiv/cs.AI`);
  out.details = await page.locator("details.entry-abstract").count();
  await page.click("#expand-all");
  out.openAfterExpand = await page.locator("details.entry-abstract[open]").count();
  out.label = await page.textContent("#expand-all");
  await page.click("#expand-all");
  out.openAfterCollapse = await page.locator("details.entry-abstract[open]").count();
  const card = page.locator('article.entry[data-id="2408.11841"]');
  const authors = card.locator(".entry-authors");
  out.foldedText = await authors.innerText();
  out.foldedHeight = (await authors.boundingBox()).height;
  await card.locator("button.authors-toggle").click();
  out.unfoldedText = await authors.innerText();
  out.unfoldedHeight = (await authors.boundingBox()).height;
  await page.setViewportSize({ width: 390, height: 844 });
  await card.locator("button.authors-toggle").click();
  await card.scrollIntoViewIfNeeded();
  await shot("folded-authors-390");
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const current = () => page.evaluate(() => {
    const c = document.querySelector("article.entry.current");
    return c && { id: c.dataset.id, focused: document.activeElement === c };
  });
  await page.keyboard.press("j");
  out.j1 = await current();
  await page.keyboard.press("j");
  out.j2 = await current();
  await page.keyboard.press("k");
  out.k1 = await current();
  await page.keyboard.press("o");
  out.openedByO = await page.locator("article.entry.current details[open]").count();
  await page.keyboard.press("s");
  out.starredByS = await page.evaluate(() => Object.keys(JSON.parse(localStorage.getItem("papermirror.stars"))));
  // Typing in the box never moves the focus.
  await page.focus("#keywords");
  await page.keyboard.press("j");
  out.keywordsAfterJ = await page.inputValue("#keywords");
  out.firstIds = await page.evaluate(() => Array.from(document.querySelectorAll("article.entry"), (e) => e.dataset.id).slice(0, 2));
""",
    )
    assert out["details"] > 0 and out["openAfterExpand"] == out["details"]
    assert out["label"] == "Collapse all" and out["openAfterCollapse"] == 0
    names = next(p for p in papers(site, "cs.AI") if p["id"] == "2408.11841")["authors"]
    assert len(names) == 90
    folded = out["foldedText"]
    assert folded.endswith("and 80 more") and names[9]["name"] in folded
    assert names[10]["name"] not in folded
    assert names[-1]["name"] in out["unfoldedText"]
    assert out["unfoldedHeight"] > 2 * out["foldedHeight"]
    first, second = out["firstIds"]
    assert out["j1"] == {"id": first, "focused": True}
    assert out["j2"]["id"] == second and out["k1"]["id"] == first
    assert out["openedByO"] == 1 and out["starredByS"] == [first]
    assert out["keywordsAfterJ"] == "j"


def test_stars_on_paper_pages_and_the_starred_page(site, tmp_path):
    api = papers(site, "cs.AI")
    first, second = api[0], api[1]
    out = run(
        site,
        tmp_path,
        rf"""
  await page.goto(`${{base}}/arxiv/{first["id"]}`);
  const star = page.locator("article.paper button.star");
  out.label = await star.getAttribute("aria-label");
  await star.click();
  out.pressed = await star.getAttribute("aria-pressed");
  await page.goto(`${{base}}/arxiv/{second["id"]}`);
  await page.locator("article.paper button.star").click();
  await page.goto(`${{base}}/starred`);
  await page.waitForSelector(".starred-list article.entry");
  out.listed = await page.evaluate(() => Array.from(
    document.querySelectorAll(".starred-list article.entry"),
    (e) => [e.dataset.id, e.querySelector(".entry-title").textContent]));
  await shot("starred");
  await page.locator(".starred-list article.entry button.star").first().click();
  out.left = await page.evaluate(() => Object.keys(JSON.parse(localStorage.getItem("papermirror.stars"))));
  await page.reload();
  await page.waitForSelector(".starred-list article.entry");
  out.afterReload = await page.locator(".starred-list article.entry").count();
  out.headerLink = await page.getAttribute("header a.starred-link", "href");
""",
    )
    assert out["label"] == f"Star: {first['title']}"
    assert out["pressed"] == "true"
    # Newest star first, with the titles read from the mirror.
    assert out["listed"] == [[second["id"], second["title"]], [first["id"], first["title"]]]
    assert out["left"] == [first["id"]] and out["afterReload"] == 1
    assert out["headerLink"] == "/starred"


def test_each_input_form_opens_the_paper_or_the_listing(site, tmp_path):
    stored = papers(site, "cs.AI")[0]
    pid = stored["id"]
    out = run(
        site,
        tmp_path,
        rf"""
  const typed = {{}};
  for (const text of ["arxiv.org/list/cs.AI/new", "https://arxiv.org/list/cs.AI/recent",
                      "papers.cool/arxiv/cs.AI",
                      "ui.adsabs.harvard.edu/abs/2017arXiv170603762V"]) {{
    await page.goto(base);
    await page.fill("header form.go input[name=url]", text);
    await Promise.all([page.waitForNavigation(), page.press("header form.go input[name=url]", "Enter")]);
    typed[text] = [new URL(page.url()).pathname, await page.locator("article.entry").count()];
  }}
  out.typed = typed;
  const swapped = {{}};
  for (const path of ["/abs/{pid}", "/pdf/{pid}", "/html/{pid}v1", "/abs/2104.12255",
                      "/list/cs.AI/new"]) {{
    await page.goto(base + path);
    swapped[path] = [new URL(page.url()).pathname, await page.locator("h1").first().innerText()];
  }}
  out.swapped = swapped;
""",
    )
    count = len(papers(site, "cs.AI"))
    for text in ("arxiv.org/list/cs.AI/new", "https://arxiv.org/list/cs.AI/recent"):
        assert out["typed"][text] == ["/arxiv/cs.AI", count], text
    assert out["typed"]["papers.cool/arxiv/cs.AI"] == ["/arxiv/cs.AI", count]
    ads = out["typed"]["ui.adsabs.harvard.edu/abs/2017arXiv170603762V"]
    assert ads[0] == "/arxiv/1706.03762"
    assert out["swapped"][f"/abs/{pid}"] == [f"/arxiv/{pid}", stored["title"]]
    assert out["swapped"][f"/pdf/{pid}"] == [f"/arxiv/{pid}", stored["title"]]
    assert out["swapped"][f"/html/{pid}v1"] == [f"/arxiv/{pid}v1", stored["title"]]
    assert out["swapped"]["/abs/2104.12255"][0] == "/arxiv/2104.12255"
    assert out["swapped"]["/list/cs.AI/new"][0] == "/arxiv/cs.AI"


def test_marks_never_enter_typeset_math_elements(site, tmp_path):
    # Typeset math as MathJax, KaTeX and the server's .math spans leave it, beside plain words.
    out = run(
        site,
        tmp_path,
        r"""
  await page.goto(`${base}/arxiv/hep-th`);
  await page.evaluate(() => {
    const p = document.querySelector("article.entry .entry-abstract p");
    p.insertAdjacentHTML("beforeend",
      ' beta <mjx-container>times beta</mjx-container> times <span class="katex">beta</span>' +
      ' <span class="math inline">$\\beta$</span> and <math><mi>beta</mi></math> end');
  });
  await typeKeywords("beta, times");
  out.inMath = await page.locator(
    "mjx-container mark, .katex mark, .math mark, math mark").count();
  out.plain = await page.locator("article.entry .entry-abstract p mark").allTextContents();
""",
    )
    assert out["inMath"] == 0
    assert out["plain"] == ["beta", "times"]
