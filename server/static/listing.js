// Listing pages: keyword highlight and filter (matching rules in filter.js), stars (stars.js),
// expand/collapse all abstracts, folded author lists, and j/k to move between papers.
// Keywords are one list for every listing; "only matching" and "only starred" are kept per
// listing, so turning them on for cs.AI does not empty math.PR.
// Math in abstracts is typeset by math.js as they open: a day of cs holds hundreds.
(() => {
  const KEYWORDS = "papermirror.keywords";
  const { parseQuery, evaluate, ranges } = window.PaperFilter;
  const Stars = window.PaperStars;

  const store = {
    get(key, fallback) {
      try { const v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); }
      catch { return fallback; }
    },
    set(key, value) {
      try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ }
    },
  };

  const entries = Array.from(document.querySelectorAll("article.entry"));
  const toolbar = document.querySelector("form.toolbar");
  if (!entries.length || !toolbar) return;
  const listing = toolbar.dataset.listing || location.pathname;
  const ONLY_MATCHING = `papermirror.onlyMatching:${listing}`;
  const ONLY_STARRED = `papermirror.onlyStarred:${listing}`;
  const keywordsBox = document.getElementById("keywords");
  const onlyMatching = document.getElementById("only-matching");
  const onlyStarred = document.getElementById("only-starred");
  const expandAll = document.getElementById("expand-all");
  const shown = toolbar.querySelector(".shown");
  const empty = document.querySelector(".filter-empty");

  // Math, raw or typeset (the server's .math spans, MathJax's and KaTeX's output): never
  // searched, never marked.
  const MATH = ".math, mjx-container, mjx-assistive-mml, .katex, math, .MathJax, script, style";
  // An element's text with each math element as a space (raw $…$ is left to filter.js).
  function plainText(el) {
    let text = "";
    for (const child of el.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) text += child.data;
      else if (child.nodeType === Node.ELEMENT_NODE) text += child.matches(MATH) ? " " : plainText(child);
    }
    return text;
  }

  // Each paper's searchable text, read once.
  const fields = new Map();
  for (const entry of entries) {
    const text = (sel) => Array.from(entry.querySelectorAll(sel), plainText).join(" ");
    fields.set(entry, {
      title: text(".entry-title .hl"),
      authors: text(".entry-authors .hl"),
      abstract: text(".entry-abstract .hl"),
    });
  }

  // --- highlighting: text nodes only, never inside math -------------------------------------
  function unmark(el) {
    const marks = el.querySelectorAll("mark.kw");
    if (!marks.length) return;
    for (const m of marks) m.replaceWith(...m.childNodes);
    el.normalize();
  }
  function mark(el, terms) {
    unmark(el);
    if (!terms.length) return 0;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement.closest(MATH) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    let count = 0;
    for (const node of nodes) {
      // Raw $…$ not typeset yet sits inside one text node: ranges() skips it.
      const found = ranges(node.data, terms);
      if (!found.length) continue;
      const parts = [];
      let pos = 0;
      for (const [a, b] of found) {
        parts.push(document.createTextNode(node.data.slice(pos, a)));
        const m = document.createElement("mark");
        m.className = "kw";
        m.textContent = node.data.slice(a, b);
        parts.push(m);
        pos = b;
      }
      parts.push(document.createTextNode(node.data.slice(pos)));
      node.replaceWith(...parts);
      count += found.length;
    }
    return count;
  }

  let lastQuery = null;
  function apply() {
    const text = keywordsBox.value;
    const query = parseQuery(text);
    const active = query.include.length + query.exclude.length > 0;
    const remark = text !== lastQuery;
    lastQuery = text;
    const starred = Stars.all();
    let visible = 0;
    for (const entry of entries) {
      const result = evaluate(fields.get(entry), query);
      if (remark) for (const el of entry.querySelectorAll(".hl")) mark(el, query.include);
      const isStarred = Boolean(starred[entry.dataset.id]);
      const star = entry.querySelector("button.star");
      Stars.paint(star, isStarred, fields.get(entry).title);
      entry.classList.toggle("match", result.match && query.include.length > 0);
      entry.classList.toggle("excluded", result.excluded);
      entry.classList.toggle("starred", isStarred);
      // A paper that matches only in its abstract says so while the abstract is folded.
      const hit = entry.querySelector(".abstract-hit");
      if (hit) hit.hidden = !(result.match && result.onlyIn === "abstract");
      const toggle = entry.querySelector("button.authors-toggle");
      if (toggle) toggle.classList.toggle("has-hit", Boolean(entry.querySelector(".authors-more mark")));
      const hide = (onlyMatching.checked && active && !result.match) || (onlyStarred.checked && !isStarred);
      entry.hidden = Boolean(hide);
      if (!hide) visible += 1;
    }
    for (const section of document.querySelectorAll(".listing-section")) {
      const all = section.querySelectorAll("article.entry").length;
      const left = section.querySelectorAll("article.entry:not([hidden])").length;
      section.querySelector(".count").textContent = left === all ? `${all}` : `${left} of ${all}`;
    }
    shown.textContent = visible === entries.length ? "" : `${visible} of ${entries.length} shown`;
    if (empty) empty.hidden = visible > 0;
  }

  function save() {
    store.set(KEYWORDS, keywordsBox.value);
    store.set(ONLY_MATCHING, onlyMatching.checked);
    store.set(ONLY_STARRED, onlyStarred.checked);
    apply();
  }

  // Math is typeset by server/static/math.js (KaTeX served by the mirror, or MathJax where the
  // operator chose it); it also typesets abstracts as they open. Called after expand-all.
  function typeset(el) {
    if (window.paperMirrorMath) window.paperMirrorMath.typeset(el);
  }

  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (details.matches && details.matches("details.entry-abstract") && details.open) {
      typeset(details.querySelector("p"));
    }
    if (details.matches && details.matches("details.entry-abstract")) syncExpandAll();
  }, true);

  function syncExpandAll() {
    if (!expandAll) return;
    const all = document.querySelectorAll("details.entry-abstract");
    const open = document.querySelectorAll("details.entry-abstract[open]");
    const expanded = all.length > 0 && open.length === all.length;
    expandAll.textContent = expanded ? "Collapse all" : "Expand all";
    expandAll.setAttribute("aria-pressed", String(expanded));
  }
  if (expandAll) {
    expandAll.hidden = false;
    expandAll.addEventListener("click", () => {
      const open = expandAll.getAttribute("aria-pressed") !== "true";
      for (const d of document.querySelectorAll("details.entry-abstract")) d.open = open;
      syncExpandAll();
    });
  }

  document.addEventListener("click", (event) => {
    const star = event.target.closest("article.entry button.star");
    if (star) {
      Stars.toggle(star.closest("article.entry").dataset.id);
      apply();
      return;
    }
    const more = event.target.closest("button.authors-toggle");
    if (more) {
      const rest = more.parentElement.querySelector(".authors-more");
      const open = rest.hidden;
      rest.hidden = !open;
      more.setAttribute("aria-expanded", String(open));
      more.textContent = open ? "show fewer" : more.dataset.label;
      return;
    }
    if (event.target.closest("button.show-all")) {
      onlyMatching.checked = false;
      onlyStarred.checked = false;
      save();
    }
  });

  // --- j/k: next and previous paper; o: open its abstract; s: star it ----------------------
  let current = null;
  function move(step) {
    const visible = entries.filter((e) => !e.hidden);
    if (!visible.length) return;
    let i = visible.indexOf(current);
    if (i < 0) {
      // Start from the first paper below the toolbar.
      const top = toolbar.getBoundingClientRect().bottom;
      i = visible.findIndex((e) => e.getBoundingClientRect().bottom > top + 1);
      i = i < 0 ? visible.length - 1 : step > 0 && visible[i].getBoundingClientRect().top > top + 1 ? i - 1 : i;
    }
    const next = visible[Math.min(Math.max(i + step, 0), visible.length - 1)];
    if (current) current.classList.remove("current");
    current = next;
    current.classList.add("current");
    current.tabIndex = -1;
    current.focus({ preventScroll: true });
    current.scrollIntoView({ block: "start" });
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const t = event.target;
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "j") move(1);
    else if (event.key === "k") move(-1);
    else if (event.key === "o" && current) {
      const d = current.querySelector("details.entry-abstract");
      d.open = !d.open;
    } else if (event.key === "s" && current) {
      Stars.toggle(current.dataset.id);
      apply();
    } else return;
    event.preventDefault();
  });

  keywordsBox.value = store.get(KEYWORDS, "");
  onlyMatching.checked = store.get(ONLY_MATCHING, false) === true;
  onlyStarred.checked = store.get(ONLY_STARRED, false) === true;
  let timer = null;
  keywordsBox.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(save, 150); });
  onlyMatching.addEventListener("change", save);
  onlyStarred.addEventListener("change", save);
  // Another tab starred a paper or changed the keywords.
  window.addEventListener("storage", (event) => {
    if (!event.key || !event.key.startsWith("papermirror.")) return;
    keywordsBox.value = store.get(KEYWORDS, "");
    onlyMatching.checked = store.get(ONLY_MATCHING, false) === true;
    onlyStarred.checked = store.get(ONLY_STARRED, false) === true;
    apply();
  });
  apply();
  syncExpandAll();
})();
