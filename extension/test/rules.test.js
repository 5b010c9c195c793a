import assert from "node:assert/strict";
import { test } from "node:test";

import { MENU_ID, PDF_MENU_ID } from "../src/config.js";
import { menuItems } from "../src/menus.js";
import { ARXIV_PAGE_REGEX, buildRedirectRules, REDIRECT_RULE_ID, ruleUpdate } from "../src/rules.js";

// Apply a rule the way declarativeNetRequest would, for the cases we care about.
function redirectOf(rule, url, { type = "main_frame", initiator } = {}) {
  const { condition, action } = rule;
  if (!condition.resourceTypes.includes(type)) return null;
  const host = new URL(url).hostname;
  if (!condition.requestDomains.some((d) => host === d || host.endsWith(`.${d}`))) return null;
  if (initiator) {
    const from = new URL(initiator).hostname;
    if (condition.excludedInitiatorDomains.some((d) => from === d || from.endsWith(`.${d}`))) return null;
  }
  const re = new RegExp(condition.regexFilter);
  const match = url.match(re);
  if (!match) return null;
  return action.redirect.regexSubstitution.replace(/\\(\d)/g, (_, n) => match[Number(n)]);
}

test("one redirect rule for arxiv.org abs and pdf top-level pages", () => {
  const rules = buildRedirectRules("http://127.0.0.1:8000/");
  assert.equal(rules.length, 1);
  const [rule] = rules;
  assert.equal(rule.id, REDIRECT_RULE_ID);
  assert.equal(rule.action.type, "redirect");
  assert.deepEqual(rule.condition.resourceTypes, ["main_frame"]);
  assert.equal(rule.condition.regexFilter, ARXIV_PAGE_REGEX);
  const cases = [
    ["https://arxiv.org/abs/2104.12255", "abs%2F2104.12255"],
    ["https://arxiv.org/abs/2104.12255v1?context=cs", "abs%2F2104.12255v1"],
    ["http://arxiv.org/abs/hep-th/9901001", "abs%2Fhep-th/9901001"],
    ["https://www.arxiv.org/pdf/1707.08567v1", "pdf%2F1707.08567v1"],
    ["https://arxiv.org/pdf/2101.00001v2.pdf", "pdf%2F2101.00001v2.pdf"],
  ];
  for (const [from, tail] of cases) {
    const to = redirectOf(rule, from);
    assert.equal(to, `http://127.0.0.1:8000/go?url=https%3A%2F%2Farxiv.org%2F${tail}`, from);
    const forwarded = new URL(to).searchParams.get("url");
    assert.ok(forwarded.startsWith("https://arxiv.org/"), forwarded);
  }
});

test("the rule leaves everything else alone", () => {
  const [rule] = buildRedirectRules("http://127.0.0.1:8000/");
  for (const url of [
    "https://arxiv.org/",
    "https://arxiv.org/list/cs.LG/new",
    "https://arxiv.org/html/2402.17764v1",
    "https://export.arxiv.org/abs/2101.00001",
    "https://arxiv.org/abs/",
    "https://example.org/abs/2104.12255",
    "https://notarxiv.org/abs/2104.12255",
  ]) {
    assert.equal(redirectOf(rule, url), null, url);
  }
  // Not top-level: an embedded PDF or a fetch stays as it is.
  assert.equal(redirectOf(rule, "https://arxiv.org/pdf/2104.12255", { type: "sub_frame" }), null);
  assert.equal(redirectOf(rule, "https://arxiv.org/pdf/2104.12255", { type: "xmlhttprequest" }), null);
});

test("loop guard: navigations started on the mirror are not redirected", () => {
  const [rule] = buildRedirectRules("https://papers.example.org/mirror/");
  assert.deepEqual(rule.condition.excludedInitiatorDomains, ["papers.example.org"]);
  assert.equal(
    redirectOf(rule, "https://arxiv.org/abs/2104.12255", {
      initiator: "https://papers.example.org/mirror/arxiv/2104.12255",
    }),
    null,
  );
  assert.equal(
    redirectOf(rule, "https://arxiv.org/abs/2104.12255", { initiator: "https://news.example.com/" }),
    "https://papers.example.org/mirror/go?url=https%3A%2F%2Farxiv.org%2Fabs%2F2104.12255",
  );
});

test("no rules for an unusable mirror or a mirror on arXiv itself", () => {
  assert.deepEqual(buildRedirectRules(""), []);
  assert.deepEqual(buildRedirectRules("not a url"), []);
  assert.deepEqual(buildRedirectRules("https://arxiv.org/"), []);
  assert.deepEqual(buildRedirectRules("https://www.arxiv.org/m/"), []);
});

test("ruleUpdate replaces the existing rules", () => {
  const rules = buildRedirectRules("http://127.0.0.1:8000/");
  assert.deepEqual(ruleUpdate([{ id: 1 }, { id: 5 }], rules), { removeRuleIds: [1, 5], addRules: rules });
  assert.deepEqual(ruleUpdate([], []), { removeRuleIds: [], addRules: [] });
});

test("menu items: link, selection, page; plus all on arXiv PDFs", () => {
  const [main, pdf] = menuItems();
  assert.equal(main.id, MENU_ID);
  assert.equal(main.title, "Open in Paper Mirror");
  assert.deepEqual(main.contexts, ["link", "selection", "page"]);
  assert.equal(main.documentUrlPatterns, undefined);
  assert.equal(pdf.id, PDF_MENU_ID);
  assert.deepEqual(pdf.contexts, ["all"]);
  assert.deepEqual(pdf.documentUrlPatterns, ["*://*.arxiv.org/pdf/*"]);
  assert.deepEqual(menuItems({ pdfViewerItem: false }), [main]);
});
