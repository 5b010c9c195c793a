import assert from "node:assert/strict";
import { test } from "node:test";

import {
  buildGoUrl,
  healthUrl,
  isMirrorUrl,
  mirrorHost,
  normalizeMirrorUrl,
  resolveUrl,
  toolbarOutcome,
} from "../src/mirror.js";

test("normalizeMirrorUrl accepts http(s) bases and adds the trailing slash", () => {
  const cases = [
    ["http://127.0.0.1:8000/", "http://127.0.0.1:8000/"],
    ["http://127.0.0.1:8000", "http://127.0.0.1:8000/"],
    ["  https://papers.example.org  ", "https://papers.example.org/"],
    ["https://example.org/mirror", "https://example.org/mirror/"],
    ["example.org:8080", "http://example.org:8080/"],
    ["localhost:8000", "http://localhost:8000/"],
    ["HTTPS://Example.ORG/", "https://example.org/"],
  ];
  for (const [input, expected] of cases) {
    assert.deepEqual(normalizeMirrorUrl(input), { ok: true, url: expected }, input);
  }
});

test("normalizeMirrorUrl rejects what is not a mirror base", () => {
  for (const input of [
    "",
    "   ",
    null,
    "ftp://example.org/",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://",
    "http://user:pw@example.org/",
    "http://example.org/?a=1",
    "http://example.org/#x",
    "http://exa mple.org/",
    "not a url",
    "not%20a%20url",
    "http://not%20a%20url/",
    "http://a_b.example/",
    "http://-dash.example/",
    "mirror .example.org",
  ]) {
    const result = normalizeMirrorUrl(input);
    assert.equal(result.ok, false, String(input));
    assert.ok(result.error, String(input));
  }
});

test("buildGoUrl encodes the whole target into ?url=", () => {
  assert.equal(
    buildGoUrl("http://127.0.0.1:8000/", "https://arxiv.org/abs/2104.12255?context=cs&x=1#a"),
    "http://127.0.0.1:8000/go?url=https%3A%2F%2Farxiv.org%2Fabs%2F2104.12255%3Fcontext%3Dcs%26x%3D1%23a",
  );
  assert.equal(
    buildGoUrl("https://example.org/mirror/", "arXiv:2307.09288 and hep-th/9901001"),
    "https://example.org/mirror/go?url=arXiv%3A2307.09288+and+hep-th%2F9901001",
  );
  const back = new URL(buildGoUrl("http://m/", "a&b=c d/é"));
  assert.equal(back.searchParams.get("url"), "a&b=c d/é");
});

test("isMirrorUrl: same origin and under the base path only", () => {
  const mirror = "http://127.0.0.1:8000/";
  assert.equal(isMirrorUrl("http://127.0.0.1:8000/arxiv/2104.12255", mirror), true);
  assert.equal(isMirrorUrl("http://127.0.0.1:8000/", mirror), true);
  assert.equal(isMirrorUrl("http://127.0.0.1:8001/arxiv/2104.12255", mirror), false);
  assert.equal(isMirrorUrl("https://127.0.0.1:8000/", mirror), false);
  assert.equal(isMirrorUrl("http://localhost:8000/", mirror), false);
  assert.equal(isMirrorUrl("https://arxiv.org/abs/2104.12255", mirror), false);
  const sub = "https://example.org/mirror/";
  assert.equal(isMirrorUrl("https://example.org/mirror/arxiv/1", sub), true);
  assert.equal(isMirrorUrl("https://example.org/mirror", sub), true);
  assert.equal(isMirrorUrl("https://example.org/mirrors/x", sub), false);
  assert.equal(isMirrorUrl("https://example.org/", sub), false);
  assert.equal(isMirrorUrl("not a url", sub), false);
  assert.equal(isMirrorUrl(undefined, sub), false);
});

test("mirrorHost", () => {
  assert.equal(mirrorHost("http://127.0.0.1:8000/"), "127.0.0.1");
  assert.equal(mirrorHost("https://Papers.Example.org/m/"), "papers.example.org");
  assert.equal(mirrorHost("nope"), "");
});

test("not a url is refused, not saved as http://not%20a%20url/", () => {
  const result = normalizeMirrorUrl("not a url");
  assert.equal(result.ok, false);
  assert.match(result.error, /not a URL/);
  assert.deepEqual(normalizeMirrorUrl("http://münchen.example/"), {
    ok: true,
    url: "http://xn--mnchen-3ya.example/",
  });
  assert.deepEqual(normalizeMirrorUrl("[::1]:8000"), { ok: true, url: "http://[::1]:8000/" });
});

test("healthUrl and resolveUrl sit under the mirror's base path", () => {
  assert.equal(healthUrl("http://127.0.0.1:8000/"), "http://127.0.0.1:8000/healthz/live");
  assert.equal(healthUrl("https://example.org/mirror/"), "https://example.org/mirror/healthz/live");
  assert.equal(
    resolveUrl("https://example.org/m/", "https://arxiv.org/abs/2104.12255?x=1&y=2"),
    "https://example.org/m/api/resolve?url=https%3A%2F%2Farxiv.org%2Fabs%2F2104.12255%3Fx%3D1%26y%3D2",
  );
});

test("toolbarOutcome opens what the mirror resolved, or explains in the badge", () => {
  const mirror = "https://example.org/m/";
  assert.deepEqual(toolbarOutcome(mirror, 200, { papers: [{}], path: "/arxiv/2104.12255" }), {
    open: "https://example.org/m/arxiv/2104.12255",
  });
  assert.deepEqual(toolbarOutcome(mirror, 200, { papers: [], path: "/arxiv/cs.AI" }), {
    open: "https://example.org/m/arxiv/cs.AI",
  });
  const none = toolbarOutcome(mirror, 404, { error: "no arXiv paper found" });
  assert.equal(none.badge.text, "?");
  assert.match(none.badge.title, /names no arXiv paper/);
  for (const [status, body] of [
    [0, null],
    [503, null],
    [200, null],
    [200, { path: "//evil.example/x" }],
    [200, { path: "https://evil.example/" }],
  ]) {
    const outcome = toolbarOutcome(mirror, status, body);
    assert.equal(outcome.open, undefined, JSON.stringify([status, body]));
    assert.equal(outcome.badge.text, "!");
  }
});
