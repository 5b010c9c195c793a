// The listing's keyword filter, pure: parse what the reader typed, match it against a paper's
// text on word boundaries, and say where to highlight. No DOM here: listing.js uses it in the
// page, tests/js/filter.test.js runs it under node's test runner.
//
// The query: keywords separated by commas or semicolons ("diffusion, LLM, reinforcement
// learning"); a keyword of several words is a phrase; "quoted text" is a phrase too and may
// hold commas; -word or -"a phrase" excludes. A keyword matches whole words only ("RL" is not
// in "world"), in any case, with or without accents, with an optional plural "s" ("LLM" finds
// "LLMs"). Text inside math ($…$, $$…$$, \(…\), \[…\]) is neither matched nor highlighted:
// marks there would break it.
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.PaperFilter = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const WORD = "\\p{L}\\p{N}";

  // Accents do not count: "Levy" finds "Lévy", "Schrodinger" finds "Schrödinger". Each
  // accented Latin letter becomes its base letter, one UTF-16 unit for one, so offsets in the
  // folded text are offsets in the original.
  const ACCENTED = /[\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u1E00-\u1EFF]/g;
  function fold(text) {
    return String(text).replace(ACCENTED, (c) => {
      const base = c.normalize("NFD")[0];
      return base.length === 1 && /\p{L}/u.test(base) ? base : c;
    });
  }

  /** Parse the box's text into {include: [term], exclude: [term]}; a term is {text, re}. */
  function parseQuery(text) {
    const include = [];
    const exclude = [];
    const seen = new Set();
    const pieces = [];
    // Quoted phrases first (they may hold commas), each leaving a separator behind.
    const rest = String(text || "").replace(/(-?)"([^"]*)(?:"|$)/g, (_, minus, phrase) => {
      pieces.push([minus === "-", phrase]);
      return ",";
    });
    for (const chunk of rest.split(/[,;]/)) {
      // Inside a chunk, " -word" starts an exclusion: "diffusion -video".
      for (const part of chunk.split(/\s+(?=-\S)/)) {
        const t = part.trim();
        if (t.startsWith("-")) pieces.push([true, t.slice(1)]);
        else pieces.push([false, t]);
      }
    }
    for (const [negated, raw] of pieces) {
      const words = raw.trim().split(/\s+/).filter(Boolean);
      if (!words.length) continue;
      const key = (negated ? "-" : "+") + fold(words.join(" ")).toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      const term = { text: words.join(" "), re: termRegExp(words) };
      (negated ? exclude : include).push(term);
    }
    return { include, exclude };
  }

  function escape(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function termRegExp(words) {
    const body = words.map((w) => escape(fold(w))).join("\\s+");
    const last = words[words.length - 1];
    // A plural "s" is allowed after a keyword that ends in a letter.
    const plural = /\p{L}$/u.test(last) ? "(?:e?s)?" : "";
    return new RegExp(`(?<![${WORD}])${body}${plural}(?![${WORD}])`, "giu");
  }

  // Math delimiters, longest first; an unclosed one is not math.
  const MATH = /\$\$[\s\S]+?\$\$|\\\[[\s\S]+?\\\]|\\\([\s\S]+?\\\)|(?<!\\)\$(?:\\\$|[^$])+?\$/g;

  /** [[start, end]] of the math spans in ``text``. */
  function mathSpans(text) {
    const spans = [];
    for (const m of String(text).matchAll(MATH)) spans.push([m.index, m.index + m[0].length]);
    return spans;
  }

  /** The sorted, merged [start, end] ranges where the terms match outside math. */
  function ranges(text, terms) {
    if (!text || !terms.length) return [];
    const math = mathSpans(text);
    const folded = fold(text);
    const found = [];
    for (const term of terms) {
      term.re.lastIndex = 0;
      for (const m of folded.matchAll(term.re)) {
        const start = m.index;
        const end = start + m[0].length;
        if (!math.some(([a, b]) => start < b && end > a)) found.push([start, end]);
      }
    }
    found.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
    const merged = [];
    for (const r of found) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    return merged;
  }

  /** Whether any term matches ``text`` outside math. */
  function matches(text, terms) {
    return ranges(text, terms).length > 0;
  }

  /**
   * A paper against a query. ``fields`` maps a field name (title, authors, abstract) to its
   * text. Returns {active, match, excluded, fields: [names that matched], onlyIn}: ``match`` is
   * true when the query is active, some included term matches (or there are only exclusions)
   * and no excluded term does; ``onlyIn`` names the one field that matched, if only one did.
   */
  function evaluate(fields, query) {
    const active = query.include.length + query.exclude.length > 0;
    const hit = [];
    for (const [name, text] of Object.entries(fields)) {
      if (matches(text, query.include)) hit.push(name);
    }
    const excluded = Object.values(fields).some((text) => matches(text, query.exclude));
    const included = query.include.length ? hit.length > 0 : true;
    return {
      active,
      match: active && included && !excluded,
      excluded,
      fields: hit,
      onlyIn: hit.length === 1 ? hit[0] : null,
    };
  }

  return { parseQuery, ranges, matches, evaluate, mathSpans, fold };
});
