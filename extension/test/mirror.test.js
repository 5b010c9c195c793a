import assert from "node:assert/strict";
import { test } from "node:test";

import { buildGoUrl, isMirrorUrl, mirrorHost, normalizeMirrorUrl } from "../src/mirror.js";

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
