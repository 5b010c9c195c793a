// End-to-end: the extension in real headless Chromium against a running mirror.
//
//   MIRROR_URL=http://127.0.0.1:8000/ node test/e2e.mjs
//
// MIRROR_URL is a running `papermirror up` whose arXiv is the replay server
// (tests/test_extension_e2e.py starts both). CHROMIUM overrides the browser
// (default: Debian's /usr/bin/chromium; nothing is ever downloaded).
//
// The browser reaches nothing but 127.0.0.1: arxiv.org and www.arxiv.org are
// mapped to a stub server started here, every other host fails to resolve.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";

import { chromium } from "playwright-core";

const EXTENSION_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const MIRROR = (() => {
  const raw = process.env.MIRROR_URL;
  if (!raw) throw new Error("set MIRROR_URL to a running `papermirror up` (see the header)");
  return raw.endsWith("/") ? raw : `${raw}/`;
})();

// Titles from the recorded API responses the replay server serves.
const TITLES = {
  "hep-ex/0406020": "Sparticle Reconstruction at LHC",
  "1707.08567": "Proceedings of Workshop AEW10",
  "astro-ph/0601001": "Frequency of Hot Jupiters and Very Hot Jupiters",
  "quant-ph/0201082": "Quantum Computers and Quantum Computer Languages",
};
const STUB_TEXT = "arXiv stub page";
const LANDING_TIMEOUT = 60_000;

const scratch = mkdtempSync(path.join(tmpdir(), "papermirror-e2e-"));

// --- helpers ---------------------------------------------------------------

function startStub() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>stub</title><h1>${STUB_TEXT}</h1><p>${req.url}</p>`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Unpack a zip (stored or deflated entries) into `dest`. */
function unzip(buffer, dest) {
  let end = buffer.length - 22;
  while (end >= 0 && buffer.readUInt32LE(end) !== 0x06054b50) end -= 1;
  assert.ok(end >= 0, "not a zip file");
  const count = buffer.readUInt16LE(end + 10);
  let at = buffer.readUInt32LE(end + 16);
  const names = [];
  for (let i = 0; i < count; i += 1) {
    assert.equal(buffer.readUInt32LE(at), 0x02014b50, "bad central directory");
    const method = buffer.readUInt16LE(at + 10);
    const size = buffer.readUInt32LE(at + 20);
    const nameLength = buffer.readUInt16LE(at + 28);
    const skip = nameLength + buffer.readUInt16LE(at + 30) + buffer.readUInt16LE(at + 32);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + skip;
    const start = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const raw = buffer.subarray(start, start + size);
    const target = path.join(dest, name);
    assert.ok(target.startsWith(dest + path.sep), `unsafe name in zip: ${name}`);
    if (name.endsWith("/")) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, method === 8 ? inflateRawSync(raw) : raw);
    names.push(name);
  }
  return names;
}

async function launch(extensionDir, stubPort) {
  const userDataDir = mkdtempSync(path.join(scratch, "profile-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      `--host-resolver-rules=MAP arxiv.org 127.0.0.1:${stubPort}, MAP www.arxiv.org 127.0.0.1:${stubPort}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
      "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
    ],
  });
  const isOurs = (w) => w.url().endsWith("/background.js");
  const first =
    context.serviceWorkers().find(isOurs) ??
    (await context.waitForEvent("serviceworker", { predicate: isOurs, timeout: 20_000 }));
  const extensionId = new URL(first.url()).host;
  // Chrome records manifest warnings and runtime errors only in developer
  // mode, from the next load on: switch it on and reload the extension.
  const page = await context.newPage();
  await page.goto("chrome://extensions/");
  await page.evaluate(
    () =>
      new Promise((resolve) =>
        chrome.developerPrivate.updateProfileConfiguration({ inDeveloperMode: true }, resolve),
      ),
  );
  const reloaded = context.waitForEvent("serviceworker", { predicate: isOurs, timeout: 20_000 });
  await page.evaluate(
    (id) =>
      new Promise((resolve) => chrome.developerPrivate.reload(id, { failQuietly: true }, resolve)),
    extensionId,
  );
  const worker = await reloaded;
  await page.close();
  return { context, worker, extensionId };
}

/** Chrome's own view of the extension: warnings and errors, from chrome://extensions. */
async function extensionReport(context, extensionId) {
  const page = await context.newPage();
  try {
    await page.goto("chrome://extensions/");
    const all = await page.evaluate(
      () =>
        new Promise((resolve) =>
          chrome.developerPrivate.getExtensionsInfo(
            { includeDisabled: true, includeTerminated: true },
            resolve,
          ),
        ),
    );
    return all.find((e) => e.id === extensionId);
  } finally {
    await page.close();
  }
}

function assertHealthy(report) {
  assert.ok(report, "extension not installed");
  assert.equal(report.state, "ENABLED");
  assert.deepEqual(report.runtimeErrors, [], JSON.stringify(report.runtimeErrors));
  assert.deepEqual(report.installWarnings, []);
  // The one expected warning: Chrome ignores Firefox's background.scripts.
  assert.deepEqual(
    report.manifestErrors.map((e) => e.manifestKey),
    ["background.scripts"],
    JSON.stringify(report.manifestErrors),
  );
}

/** Wait until `page` shows the mirror's page at `pathname` with `title` in its h1 (or body). */
async function waitForPaper(page, pathname, titles, { where = "h1" } = {}) {
  const expected = new URL(pathname, MIRROR).href;
  const deadline = Date.now() + LANDING_TIMEOUT;
  let seen = "";
  while (Date.now() < deadline) {
    try {
      if (page.url() === expected) {
        seen = (await page.locator(where).first().textContent({ timeout: 2000 })) ?? "";
        if (titles.every((title) => seen.includes(title))) return;
      } else {
        seen = page.url();
      }
    } catch {
      // The 202 "fetching" page refreshes itself; try again.
    }
    await page.waitForTimeout(300);
  }
  assert.fail(`expected ${expected} showing ${JSON.stringify(titles)}; last saw ${page.url()}: ${seen}`);
}

async function tabIdsNow(worker) {
  return worker.evaluate(async () => (await chrome.tabs.query({})).map((t) => t.id));
}

async function waitFor(check, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

// --- the tests ---------------------------------------------------------------

let stub;
let stubPort;

before(async () => {
  stub = await startStub();
  stubPort = stub.address().port;
});

after(() => {
  stub?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the unpacked extension, as in the source tree", () => {
  let browser;
  let source;
  let sourceTab;
  const sourceUrl = "http://arxiv.org/abs/1707.08567?context=cs";

  before(async () => {
    browser = await launch(EXTENSION_DIR, stubPort);
    const { context, worker } = browser;
    await worker.evaluate((mirrorUrl) => chrome.storage.sync.set({ mirrorUrl }), MIRROR);
    const before = await tabIdsNow(worker);
    source = await context.newPage();
    await source.goto(sourceUrl);
    assert.match(await source.textContent("h1"), new RegExp(STUB_TEXT));
    const [id] = (await tabIdsNow(worker)).filter((t) => !before.includes(t));
    sourceTab = await worker.evaluate((id) => chrome.tabs.get(id), id);
  });

  after(async () => {
    await browser?.context.close();
  });

  // Calls the background's click handler in the service worker, like Chrome does.
  async function click(info, { tab = sourceTab, expectTab = true } = {}) {
    const { context, worker } = browser;
    const opened = expectTab ? context.waitForEvent("page", { timeout: 15_000 }) : null;
    const result = await worker.evaluate(
      ([info, tab]) => globalThis.handleMenuClick(info, tab),
      [{ menuItemId: "open-in-mirror", pageUrl: sourceUrl, ...info }, tab],
    );
    return { result, page: opened ? await opened : null };
  }

  test("registers a service worker with no errors", async () => {
    const { context, worker, extensionId } = browser;
    assert.equal(await worker.evaluate(() => typeof globalThis.handleMenuClick), "function");
    const granted = await worker.evaluate(() => chrome.permissions.getAll());
    assert.deepEqual(granted.origins, []);
    assertHealthy(await extensionReport(context, extensionId));
  });

  test("link: opens the linked paper in a new tab next to the current one", async () => {
    const { result, page } = await click({ linkUrl: "https://arxiv.org/abs/hep-ex/0406020v1" });
    assert.equal(result.where, "new-tab");
    assert.equal(
      result.url,
      `${MIRROR}go?url=${encodeURIComponent("https://arxiv.org/abs/hep-ex/0406020v1")}`,
    );
    const tab = await browser.worker.evaluate((id) => chrome.tabs.get(id), result.openedTabId);
    assert.equal(tab.index, sourceTab.index + 1);
    assert.equal(tab.openerTabId, sourceTab.id);
    await waitForPaper(page, "arxiv/hep-ex/0406020v1", [TITLES["hep-ex/0406020"]]);
    await page.close();
  });

  test("selection beats link: one id in the selected text", async () => {
    const { page } = await click({
      selectionText: "as shown in arXiv:1707.08567, the workshop",
      linkUrl: "https://arxiv.org/abs/hep-ex/0406020",
    });
    await waitForPaper(page, "arxiv/1707.08567", [TITLES["1707.08567"]]);
    await page.close();
  });

  test("selection with several ids opens the multi-paper page", async () => {
    const { page } = await click({
      selectionText: "Compare astro-ph/0601001 with\n arXiv:quant-ph/0201082.",
    });
    await waitForPaper(
      page,
      "arxiv/astro-ph/0601001,quant-ph/0201082",
      [TITLES["astro-ph/0601001"], TITLES["quant-ph/0201082"]],
      { where: "main" },
    );
    await page.close();
  });

  test("page: an arXiv PDF (the PDF viewer's item) opens its paper", async () => {
    const { page } = await click({
      menuItemId: "open-in-mirror-pdf",
      pageUrl: "https://arxiv.org/pdf/quant-ph/0201082v1",
    });
    await waitForPaper(page, "arxiv/quant-ph/0201082v1", [TITLES["quant-ph/0201082"]]);
    await page.close();
  });

  test("toolbar button: opens the current tab's page", async () => {
    const { context, worker } = browser;
    const opened = context.waitForEvent("page", { timeout: 15_000 });
    // activeTab gives the handler the tab's URL when the button is clicked.
    await worker.evaluate(([tab]) => globalThis.handleActionClick(tab), [
      { ...sourceTab, url: sourceUrl },
    ]);
    const page = await opened;
    await waitForPaper(page, "arxiv/1707.08567", [TITLES["1707.08567"]]);
    await page.close();
  });

  test("toolbar button: a page that names no paper gets a badge, not a tab", async () => {
    const { context, worker } = browser;
    const pagesBefore = context.pages().length;
    const tab = { ...sourceTab, url: "https://example.org/no/paper/here" };
    const result = await worker.evaluate(([t]) => globalThis.handleActionClick(t), [tab]);
    assert.equal(result.badge.text, "?");
    const badge = await worker.evaluate(
      ([id]) => chrome.action.getBadgeText({ tabId: id }),
      [sourceTab.id],
    );
    assert.equal(badge, "?");
    const title = await worker.evaluate(([id]) => chrome.action.getTitle({ tabId: id }), [
      sourceTab.id,
    ]);
    assert.match(title, /names no arXiv paper/);
    await context.pages()[0].waitForTimeout(1000);
    assert.equal(context.pages().length, pagesBefore);
  });

  test("toolbar button: an arXiv listing opens the mirror's listing", async () => {
    const { context, worker } = browser;
    const opened = context.waitForEvent("page", { timeout: 15_000 });
    await worker.evaluate(([tab]) => globalThis.handleActionClick(tab), [
      { ...sourceTab, url: "https://arxiv.org/list/cs.AI/new" },
    ]);
    const page = await opened;
    await page.waitForURL(`${MIRROR}arxiv/cs.AI`, { timeout: LANDING_TIMEOUT });
    await page.close();
  });

  test("does nothing on the mirror's own pages", async () => {
    const mirrorPage = `${MIRROR}arxiv/1707.08567`;
    const pagesBefore = browser.context.pages().length;
    for (const info of [
      { pageUrl: mirrorPage },
      { pageUrl: mirrorPage, linkUrl: "https://arxiv.org/abs/hep-ex/0406020" },
      { pageUrl: mirrorPage, selectionText: "hep-ex/0406020" },
    ]) {
      const { result } = await click(info, { expectTab: false });
      assert.equal(result, null);
    }
    await browser.context.pages()[0].waitForTimeout(1000);
    assert.equal(browser.context.pages().length, pagesBefore);
  });

  test("setting 'current tab': the current tab navigates to the mirror", async () => {
    await browser.worker.evaluate(() => chrome.storage.sync.set({ openIn: "current-tab" }));
    const { result } = await click(
      { linkUrl: "https://huggingface.co/papers/1707.08567" },
      { expectTab: false },
    );
    assert.equal(result.where, "current-tab");
    await waitForPaper(source, "arxiv/1707.08567", [TITLES["1707.08567"]]);
    await browser.worker.evaluate(() => chrome.storage.sync.set({ openIn: "new-tab" }));
  });

  test("still no errors after all that", async () => {
    assertHealthy(await extensionReport(browser.context, browser.extensionId));
  });
});

describe("the zip the mirror serves, with the opt-in auto-redirect", () => {
  let browser;
  let optionsPage;
  const unpacked = path.join(scratch, "from-zip");

  before(async () => {
    const response = await fetch(new URL("extension.zip", MIRROR));
    assert.equal(response.status, 200, "GET /extension.zip");
    const names = unzip(Buffer.from(await response.arrayBuffer()), unpacked);
    assert.ok(names.includes("manifest.json"));
    assert.ok(!names.some((n) => n.startsWith("test/") || n.includes("node_modules")));
    // The person grants arxiv.org when switching the redirect on; an unpacked
    // extension cannot be answered a permission prompt headlessly, so the test
    // grants the same hosts up front by listing them as host_permissions.
    const manifestPath = path.join(unpacked, "manifest.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    manifest.host_permissions = manifest.optional_host_permissions;
    delete manifest.optional_host_permissions;
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    browser = await launch(unpacked, stubPort);
    optionsPage = await browser.context.newPage();
    await optionsPage.goto(`chrome-extension://${browser.extensionId}/options.html`);
  });

  after(async () => {
    await browser?.context.close();
  });

  const rules = () => browser.worker.evaluate(() => chrome.declarativeNetRequest.getDynamicRules());

  test("defaults to the serving mirror's address, with the redirect off", async () => {
    await waitFor(async () => (await optionsPage.inputValue("#mirrorUrl")) === MIRROR, "options");
    assert.equal(await optionsPage.isChecked("#autoRedirect"), false);
    assert.equal(await optionsPage.isChecked('input[name="openIn"][value="new-tab"]'), true);
    assert.deepEqual(await rules(), []);
  });

  test("the options page validates the mirror address", async () => {
    for (const bad of ["ftp://example.org/", "not a url"]) {
      await optionsPage.fill("#mirrorUrl", bad);
      await optionsPage.press("#mirrorUrl", "Enter");
      await waitFor(() => optionsPage.isVisible("#mirrorError"), "the error message");
      assert.deepEqual(
        await browser.worker.evaluate(() => chrome.storage.sync.get("mirrorUrl")),
        {},
        bad,
      );
    }
    // Saved as it changes, like every other option: here, as the box loses focus.
    await optionsPage.fill("#mirrorUrl", MIRROR.replace(/\/$/, ""));
    await optionsPage.focus('input[name="openIn"][value="new-tab"]');
    await waitFor(async () => (await optionsPage.textContent("#status")) === "Saved.", "Saved.");
    assert.equal(await optionsPage.isVisible("#mirrorError"), false);
    const stored = await browser.worker.evaluate(() => chrome.storage.sync.get("mirrorUrl"));
    assert.deepEqual(stored, { mirrorUrl: MIRROR });
  });

  test("every option saves the same way: as it changes, then 'Saved.'", async () => {
    await optionsPage.evaluate(() => { document.getElementById("status").textContent = ""; });
    await optionsPage.check('input[name="openIn"][value="current-tab"]');
    await waitFor(async () => (await optionsPage.textContent("#status")) === "Saved.", "Saved.");
    const stored = await browser.worker.evaluate(() => chrome.storage.sync.get("openIn"));
    assert.deepEqual(stored, { openIn: "current-tab" });
    await optionsPage.check('input[name="openIn"][value="new-tab"]');
    await waitFor(
      async () =>
        (await browser.worker.evaluate(() => chrome.storage.sync.get("openIn"))).openIn ===
        "new-tab",
      "new-tab saved",
    );
  });

  test("the options page tests the connection to the mirror", async () => {
    await optionsPage.click("#test");
    await waitFor(
      async () => /answered at/.test((await optionsPage.textContent("#connection")) ?? ""),
      "the mirror answered",
    );
    assert.equal(await optionsPage.getAttribute("#connection", "class"), "ok");
    // A closed port: the page says no one answered (and nothing is saved).
    await optionsPage.fill("#mirrorUrl", "http://127.0.0.1:9/");
    await optionsPage.click("#test");
    await waitFor(
      async () => /No answer/.test((await optionsPage.textContent("#connection")) ?? ""),
      "no answer",
    );
    assert.equal(await optionsPage.getAttribute("#connection", "class"), "failed");
    await optionsPage.fill("#mirrorUrl", MIRROR);
    await optionsPage.press("#mirrorUrl", "Enter");
    await waitFor(
      async () =>
        (await browser.worker.evaluate(() => chrome.storage.sync.get("mirrorUrl"))).mirrorUrl ===
        MIRROR,
      "the mirror saved",
    );
  });

  test("switching the redirect on adds one rule", async () => {
    await optionsPage.click("#autoRedirect");
    const [rule] = await waitFor(async () => {
      const now = await rules();
      return now.length ? now : null;
    }, "the redirect rule");
    assert.equal(rule.action.type, "redirect");
    assert.deepEqual(rule.condition.resourceTypes, ["main_frame"]);
    assert.deepEqual(rule.condition.excludedInitiatorDomains, [new URL(MIRROR).hostname]);
  });

  test("arxiv.org abs and pdf pages land on the mirror", async () => {
    const page = await browser.context.newPage();
    await page.goto("http://arxiv.org/abs/hep-ex/0406020v1").catch(() => {});
    await waitForPaper(page, "arxiv/hep-ex/0406020v1", [TITLES["hep-ex/0406020"]]);
    await page.goto("http://www.arxiv.org/pdf/quant-ph/0201082v1").catch(() => {});
    await waitForPaper(page, "arxiv/quant-ph/0201082v1", [TITLES["quant-ph/0201082"]]);
    // Loop guard: a link on the mirror's page to arXiv reaches arXiv.
    await page.evaluate(() => {
      const a = document.createElement("a");
      a.href = "http://arxiv.org/abs/1707.08567";
      a.id = "to-arxiv";
      a.textContent = "arXiv";
      document.body.append(a);
    });
    await Promise.all([page.waitForURL("http://arxiv.org/abs/1707.08567"), page.click("#to-arxiv")]);
    assert.match(await page.textContent("h1"), new RegExp(STUB_TEXT));
    // Other arxiv.org pages are never redirected.
    await page.goto("http://arxiv.org/list/cs.LG/new");
    assert.equal(page.url(), "http://arxiv.org/list/cs.LG/new");
    await page.close();
  });

  test("switching the redirect off removes the rule", async () => {
    await optionsPage.click("#autoRedirect");
    await waitFor(async () => (await rules()).length === 0, "no rules");
    const page = await browser.context.newPage();
    await page.goto("http://arxiv.org/abs/hep-ex/0406020v1");
    assert.equal(page.url(), "http://arxiv.org/abs/hep-ex/0406020v1");
    assert.match(await page.textContent("h1"), new RegExp(STUB_TEXT));
    await page.close();
  });

  test("no errors", async () => {
    assertHealthy(await extensionReport(browser.context, browser.extensionId));
  });
});
