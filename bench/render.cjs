// Driven by bench/render.py: cold-cache loads of each URL in Chromium, one JSON line out.
const { chromium } = require("playwright-core");
(async () => {
  const urls = JSON.parse(process.env.URLS);
  const repeats = Number(process.env.REPEATS || 3);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
  const out = {};
  for (let r = 0; r < repeats; r++) {
    for (const [name, url] of Object.entries(urls)) {
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      await page.goto(url, { waitUntil: "load" });
      // Rendered: first contentful paint, the math typeset (when the page loads a renderer)
      // and the fonts it needs loaded, whichever comes last.
      await page.waitForFunction(() => !document.querySelector("script[src*='math.js']")
        || document.documentElement.dataset.mathReady === "1");
      const m = await page.evaluate(async () => {
        await document.fonts.ready;
        const fontsAt = performance.now();
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        const math = performance.getEntriesByName("math-ready")[0];
        const nav = performance.getEntriesByType("navigation")[0];
        const resources = performance.getEntriesByType("resource");
        const fonts = resources.filter((e) => e.name.endsWith(".woff2"));
        return {
          fcp_ms: paint ? paint.startTime : null,
          math_ready_ms: math ? math.startTime : null,
          fonts_ms: fonts.length ? Math.max(...fonts.map((e) => e.responseEnd)) : 0,
          load_ms: nav.loadEventEnd,
          html_bytes: nav.transferSize,
          total_bytes: nav.transferSize + resources.reduce((a, e) => a + e.transferSize, 0),
          requests: 1 + resources.length,
          math_spans: document.querySelectorAll(".math").length,
          typeset: document.querySelectorAll(".katex, mjx-container").length,
          fontsAt,
        };
      });
      m.rendered_ms = Math.max(m.fcp_ms || 0, m.math_ready_ms || 0, m.fonts_ms || 0);
      (out[name] ||= []).push(m);
      await context.close();
    }
  }
  console.log(JSON.stringify(out));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
