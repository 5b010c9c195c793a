// Driven by tests/test_surface_browser.py: prints one JSON line of what it saw.
const { launch } = require(process.env.PM_BROWSER);
const base = process.env.BASE_URL, shots = process.env.SHOTS;
(async () => {
  const browser = await launch();
  const out = { thirdParty: [], errors: [], notFound: [] };
  async function open(path, { width = 1366, height = 900, scheme = "light", storage = null } = {}) {
    const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
    // Offline: anything but this mirror is refused, and recorded.
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      out.thirdParty.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => out.errors.push(`${path}: ${e}`));
    page.on("response", (r) => { if (r.status() === 404) out.notFound.push(r.url()); });
    if (storage) {
      await page.goto(base + "/robots.txt");
      await page.evaluate((s) => { for (const [k, v] of Object.entries(s)) localStorage.setItem(k, v); }, storage);
    }
    await page.goto(base + path, { waitUntil: "load" });
    await page.evaluate(() => document.fonts.ready);
    return { context, page };
  }
  const mathReady = (page) => page.waitForFunction(
    () => !document.querySelector(".math") || document.documentElement.dataset.mathReady === "1");
  const shot = (page, name, fullPage = false) =>
    page.screenshot({ path: `${shots}/${name}.png`, fullPage });

  // 1. A listing: math in titles typeset offline; abstracts typeset when opened.
  {
    const { context, page } = await open("/arxiv/cs.AI");
    await mathReady(page);
    const entry = page.locator('article.entry[data-id="2411.17792"]');
    out.listingTitleKatex = await entry.locator(".entry-title .katex").count();
    out.listingTitleText = (await entry.locator(".entry-title a").innerText()).replace(/\s+/g, " ");
    const withMath = page.locator("details.entry-abstract:has(.math)").first();
    await withMath.locator("summary").click();
    await page.waitForFunction(() => document.querySelector("details.entry-abstract[open] .katex"));
    out.listingAbstractKatex = await withMath.locator(".katex").count();
    out.starLabel = await entry.locator("button.star").getAttribute("aria-label");
    out.kinds = await page.locator(".entry-meta .kind").allInnerTexts();
    await shot(page, "listing-cs.AI-desktop");
    await context.close();
  }
  // 2. A paper page: title and abstract typeset; accents; metadata.
  for (const id of ["2411.18509", "2411.16302", "2411.18468", "2411.18592", "2411.17792"]) {
    const { context, page } = await open(`/arxiv/${id}`);
    await mathReady(page);
    out[id] = {
      title: (await page.locator("h1.title").innerText()).replace(/\s+/g, " "),
      titleKatex: await page.locator("h1.title .katex").count(),
      abstractKatex: await page.locator(".abstract .katex").count(),
      abstract: await page.locator(".abstract p").innerText(),
      authors: await page.locator("ul.authors li").allInnerTexts(),
      citationAuthors: await page.locator('meta[name="citation_author"]').evaluateAll((m) => m.map((e) => e.content)),
      citationDate: await page.locator('meta[name="citation_date"]').evaluateAll((m) => m.map((e) => e.content)),
      announced: await page.locator("dl.meta time").allInnerTexts(),
    };
    if (id === "2411.18509") await shot(page, "paper-2411.18509-desktop");
    await context.close();
  }
  // 3. Dark mode: the system's preference, then the header's toggle, remembered.
  {
    const { context, page } = await open("/arxiv/2411.18509", { scheme: "dark" });
    await mathReady(page);
    out.darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    out.darkScheme = await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme);
    await shot(page, "paper-2411.18509-dark");
    await page.click("button.theme");
    out.toggledBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.reload();
    out.toggledAfterReload = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    out.themeStored = await page.evaluate(() => localStorage.getItem("papermirror.theme"));
    await context.close();
  }
  {
    const { context, page } = await open("/arxiv/cs.AI", { scheme: "light", storage: { "papermirror.theme": "dark" } });
    await mathReady(page);
    out.manualDarkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await shot(page, "listing-cs.AI-dark");
    await context.close();
  }
  // 4. Phones: nothing scrolls sideways at 360 px.
  out.widths = {};
  for (const [name, path] of [["home", "/"], ["listing", "/arxiv/cs.AI"], ["paper", "/arxiv/2411.18509"],
                              ["paper-long-authors", "/arxiv/2411.18592"], ["status", "/status"]]) {
    const { context, page } = await open(path, { width: 360, height: 780 });
    await mathReady(page);
    await page.locator("details.entry-abstract:has(.math)").first().evaluate((d) => { d.open = true; }).catch(() => {});
    await page.waitForTimeout(100);
    out.widths[name] = await page.evaluate(() => document.documentElement.scrollWidth);
    await shot(page, `${name}-360`, name === "home" || name === "status");
    await context.close();
  }
  // 5b. An anchor lands below the sticky toolbar, on a phone too; touch targets are >= 24 px.
  out.anchors = {};
  for (const width of [1366, 360]) {
    const { context, page } = await open("/arxiv/cs.AI#2411.18071", { width, height: 780 });
    await page.waitForTimeout(200);
    out.anchors[width] = await page.evaluate(() => {
      const bar = document.querySelector("form.toolbar").getBoundingClientRect();
      const entry = document.getElementById("2411.18071").getBoundingClientRect();
      return { toolbarBottom: bar.bottom, entryTop: entry.top };
    });
    if (width === 360) {
      out.smallTargets = await page.evaluate(() => Array.from(
        document.querySelectorAll("button, summary, form.toolbar label, .entry-meta a"))
        .filter((el) => el.offsetParent !== null)
        .map((el) => [el.textContent.trim().slice(0, 20), el.getBoundingClientRect()])
        .filter(([, r]) => r.height < 24 || r.width < 24)
        .map(([t, r]) => `${t} ${Math.round(r.width)}x${Math.round(r.height)}`));
    }
    await context.close();
  }
  // 5c. Hostile TeX: no link, no markup, no dialog, no hang (KaTeX trust: false, maxExpand).
  {
    const { context, page } = await open("/arxiv/2411.99999");
    const dialogs = [];
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
    await mathReady(page);
    out.hostile = await page.evaluate(() => ({
      jsLinks: document.querySelectorAll('a[href^="javascript"], [onerror], img').length,
      classes: document.querySelectorAll(".evil").length,
      typeset: document.querySelectorAll(".katex, .math-error").length,
      evil: Array.from(document.querySelectorAll(".math")).filter((e) => e.textContent.includes("EVIL")).length,
    }));
    await page.reload();
    await mathReady(page);
    out.hostile.dialogs = dialogs;
    await context.close();
  }
  // 5d. Math on a page whose server render did not load KaTeX (a cached fragment): fetched then.
  {
    const { context, page } = await open("/");
    await page.evaluate(() => {
      document.querySelector("main").insertAdjacentHTML("beforeend", '<p><span class="math inline">$x^2$</span></p>');
      window.paperMirrorMath.typeset();
    });
    await page.waitForFunction(() => document.querySelector("main .katex"));
    out.lateKatex = await page.locator("main .katex").count();
    await context.close();
  }
  // 5. The skip link is the first thing a keyboard reaches.
  {
    const { context, page } = await open("/");
    await page.keyboard.press("Tab");
    out.firstTab = await page.evaluate(() => document.activeElement.textContent.trim());
    out.summaryCheckboxes = await page.locator("summary input").count();
    await context.close();
  }
  // 6. The extension's options page follows dark mode too (a file, outside the mirror).
  {
    const context = await browser.newContext({ viewport: { width: 700, height: 600 }, colorScheme: "dark" });
    const page = await context.newPage();
    await page.goto("file://" + process.env.OPTIONS_PAGE);
    out.optionsDarkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await shot(page, "extension-options-dark");
    await context.close();
  }
  console.log(JSON.stringify(out));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
