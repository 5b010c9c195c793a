// server/static/filter.js under node's test runner (run by tests/test_listing_js.py).
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { parseQuery, ranges, evaluate, mathSpans } = require(
  path.join(__dirname, "..", "..", "server", "static", "filter.js"),
);

const texts = (terms) => terms.map((t) => t.text);
const marked = (text, query) =>
  ranges(text, parseQuery(query).include).map(([a, b]) => text.slice(a, b));

test("commas separate keywords; a keyword of several words is a phrase", () => {
  const q = parseQuery("diffusion, LLM; reinforcement   learning,, ");
  assert.deepEqual(texts(q.include), ["diffusion", "LLM", "reinforcement learning"]);
  assert.deepEqual(q.exclude, []);
});

test("quotes make a phrase that may hold commas; -word and -\"phrase\" exclude", () => {
  const q = parseQuery('"large, language" -video, diffusion -"point cloud", -3D');
  assert.deepEqual(texts(q.include), ["large, language", "diffusion"]);
  assert.deepEqual(texts(q.exclude), ["point cloud", "video", "3D"]);
});

test("hyphens inside words are not exclusions", () => {
  const q = parseQuery("state-of-the-art, self-supervised");
  assert.deepEqual(texts(q.include), ["state-of-the-art", "self-supervised"]);
});

test("keywords match whole words only: RL is not in world", () => {
  assert.deepEqual(marked("A world model trained with RL.", "RL"), ["RL"]);
  assert.deepEqual(marked("The world of control", "RL"), []);
  assert.deepEqual(marked("Offline-RL (RL) and deep RL.", "rl"), ["RL", "RL", "RL"]);
});

test("short keywords are accepted, and a plural s is allowed", () => {
  assert.deepEqual(marked("a 3D scene and 3Ds", "3D"), ["3D", "3Ds"]);
  assert.deepEqual(marked("Two LLMs and an LLM", "LLM"), ["LLMs", "LLM"]);
  assert.deepEqual(marked("x is a variable; xy is not", "x"), ["x"]);
});

test("phrases match across any whitespace, in any case", () => {
  assert.deepEqual(marked("Large\nLanguage  Models", '"large language model"'), [
    "Large\nLanguage  Models",
  ]);
});

test("nothing inside math is matched or marked", () => {
  const text = "We compute $SU(3)_C\\times \\beta$ and \\(\\beta + \\times\\) times beta times.";
  assert.deepEqual(marked(text, "times, beta"), ["times", "beta", "times"]);
  for (const [a, b] of ranges(text, parseQuery("times, beta").include)) {
    for (const [m, n] of mathSpans(text)) assert.ok(b <= m || a >= n);
  }
  assert.deepEqual(marked("$$x beta$$ and \\[beta\\]", "beta"), []);
  assert.deepEqual(marked("costs $5 and beta costs $6", "beta"), []);
  assert.deepEqual(marked("an unclosed $ beta", "beta"), ["beta"]);
});

test("evaluate: include, exclude and the field that matched", () => {
  const paper = { title: "Diffusion for video", authors: "A. Author", abstract: "We use RL." };
  assert.equal(evaluate(paper, parseQuery("")).active, false);
  assert.equal(evaluate(paper, parseQuery("")).match, false);
  const rl = evaluate(paper, parseQuery("RL"));
  assert.equal(rl.match, true);
  assert.equal(rl.onlyIn, "abstract");
  const both = evaluate(paper, parseQuery("RL, diffusion"));
  assert.deepEqual(both.fields, ["title", "abstract"]);
  assert.equal(both.onlyIn, null);
  const excluded = evaluate(paper, parseQuery("diffusion -video"));
  assert.equal(excluded.match, false);
  assert.equal(excluded.excluded, true);
  const onlyExclusion = evaluate(paper, parseQuery("-image"));
  assert.equal(onlyExclusion.match, true);
  assert.equal(evaluate(paper, parseQuery("-video")).match, false);
  assert.equal(evaluate(paper, parseQuery("world")).match, false);
});

test("odd input never throws", () => {
  for (const q of ['"', '-"', "-", ",,,", "((", "\\", "$", "-$", "日本語", "a".repeat(5000)]) {
    const parsed = parseQuery(q);
    evaluate({ t: "some text (( $x$ 日本語" }, parsed);
  }
});

test("accents do not count, and marks keep the original letters", () => {
  assert.deepEqual(marked("the Lévy process of Schrödinger", "levy, Schrodinger"), [
    "Lévy",
    "Schrödinger",
  ]);
  assert.deepEqual(marked("José Manuel Penin", "jose"), ["José"]);
  assert.deepEqual(marked("Jose and Lévy", "Lévy, josé"), ["Jose", "Lévy"]);
  assert.deepEqual(marked("Ærø and 𝔸 then Levy", "levy"), ["Levy"]);
});
