import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_SETTINGS } from "../src/config.js";
import { normalizeSettings } from "../src/settings.js";
import { chooseTarget, MAX_SELECTION, planOpen } from "../src/target.js";

const MIRROR = "http://127.0.0.1:8000/";
const settings = { ...DEFAULT_SETTINGS, mirrorUrl: MIRROR };
const tab = { id: 7, index: 2, url: "https://example.org/blog" };
const go = (target) => `${MIRROR}go?url=${new URLSearchParams({ url: target }).toString().slice(4)}`;

test("selection beats link beats page", () => {
  const all = {
    selectionText: "arXiv:2307.09288",
    linkUrl: "https://arxiv.org/abs/1707.08567",
    pageUrl: "https://huggingface.co/papers/2104.12255",
  };
  assert.deepEqual(chooseTarget(all, tab), { kind: "selection", value: "arXiv:2307.09288" });
  const { selectionText, ...noSelection } = all;
  assert.deepEqual(chooseTarget(noSelection, tab), {
    kind: "link",
    value: "https://arxiv.org/abs/1707.08567",
  });
  const { linkUrl, ...pageOnly } = noSelection;
  assert.deepEqual(chooseTarget(pageOnly, tab), {
    kind: "page",
    value: "https://huggingface.co/papers/2104.12255",
  });
  assert.deepEqual(chooseTarget({}, { url: "https://www.alphaxiv.org/abs/2005.14165" }), {
    kind: "page",
    value: "https://www.alphaxiv.org/abs/2005.14165",
  });
});

test("selections are trimmed, whitespace collapsed, and capped", () => {
  assert.equal(
    chooseTarget({ selectionText: "  arXiv:2307.09288\n\tand  hep-th/9901001 " }).value,
    "arXiv:2307.09288 and hep-th/9901001",
  );
  assert.equal(chooseTarget({ selectionText: "x".repeat(5000) }).value.length, MAX_SELECTION);
  // Whitespace-only selection falls through to the link.
  assert.equal(chooseTarget({ selectionText: " \n ", linkUrl: "https://a.example/" }).kind, "link");
});

test("non-web links and pages are skipped", () => {
  assert.equal(
    chooseTarget({ linkUrl: "javascript:void(0)", pageUrl: "https://arxiv.org/abs/1" }).kind,
    "page",
  );
  assert.equal(chooseTarget({ linkUrl: "mailto:a@b.c" }), null);
  assert.equal(chooseTarget({ pageUrl: "chrome://newtab/" }), null);
  assert.equal(chooseTarget({}, {}), null);
  assert.equal(chooseTarget(), null);
});

test("the PDF viewer's frame URL is used when no page URL is given", () => {
  assert.deepEqual(chooseTarget({ frameUrl: "https://arxiv.org/pdf/2104.12255v1" }), {
    kind: "page",
    value: "https://arxiv.org/pdf/2104.12255v1",
  });
});

test("planOpen opens /go in a new tab next to the current one", () => {
  const info = { menuItemId: "open-in-mirror", linkUrl: "https://arxiv.org/abs/hep-th/9901001" };
  assert.deepEqual(planOpen(info, tab, settings), {
    url: go("https://arxiv.org/abs/hep-th/9901001"),
    where: "new-tab",
    index: 3,
    openerTabId: 7,
  });
});

test("planOpen honours the current-tab setting", () => {
  const info = { selectionText: "arXiv:2307.09288, hep-th/9901001" };
  const plan = planOpen(info, tab, { ...settings, openIn: "current-tab" });
  assert.deepEqual(plan, {
    url: go("arXiv:2307.09288, hep-th/9901001"),
    where: "current-tab",
    tabId: 7,
  });
});

test("planOpen without a usable tab opens a plain new tab", () => {
  const info = { pageUrl: "https://arxiv.org/pdf/2104.12255" };
  for (const t of [undefined, {}, { id: -1 }]) {
    assert.deepEqual(planOpen(info, t, { ...settings, openIn: "current-tab" }), {
      url: go("https://arxiv.org/pdf/2104.12255"),
      where: "new-tab",
    });
  }
});

test("planOpen does nothing on the mirror's own pages", () => {
  const mirrorTab = { id: 1, index: 0, url: `${MIRROR}arxiv/2104.12255` };
  assert.equal(planOpen({ pageUrl: mirrorTab.url }, mirrorTab, settings), null);
  assert.equal(
    planOpen({ pageUrl: mirrorTab.url, linkUrl: "https://arxiv.org/abs/2104.12255" }, mirrorTab, settings),
    null,
  );
  assert.equal(
    planOpen({ pageUrl: mirrorTab.url, selectionText: "2104.12255" }, mirrorTab, settings),
    null,
  );
  // The toolbar button passes only the tab.
  assert.equal(planOpen({}, mirrorTab, settings), null);
});

test("planOpen opens links into the mirror as they are", () => {
  const info = { linkUrl: `${MIRROR}arxiv/1707.08567`, pageUrl: "https://example.org/" };
  assert.equal(planOpen(info, tab, settings).url, `${MIRROR}arxiv/1707.08567`);
});

test("planOpen returns null when there is nothing to open", () => {
  assert.equal(planOpen({ pageUrl: "chrome://extensions/" }, { id: 1 }, settings), null);
});

test("normalizeSettings fills defaults and drops bad values", () => {
  assert.deepEqual(normalizeSettings(), DEFAULT_SETTINGS);
  assert.deepEqual(normalizeSettings({ mirrorUrl: "ftp://x", openIn: "elsewhere", autoRedirect: "yes" }), DEFAULT_SETTINGS);
  assert.deepEqual(
    normalizeSettings({ mirrorUrl: "papers.example.org", openIn: "current-tab", autoRedirect: true }),
    { mirrorUrl: "http://papers.example.org/", openIn: "current-tab", autoRedirect: true },
  );
});
