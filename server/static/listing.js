// Listing pages: keyword highlight and filter, and stars, kept in localStorage as on Cool Papers.
(() => {
  const KEYWORDS = "papermirror.keywords";
  const ONLY_MATCHING = "papermirror.onlyMatching";
  const ONLY_STARRED = "papermirror.onlyStarred";
  const STARS = "papermirror.stars";

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
  if (!entries.length) return;
  const keywordsBox = document.getElementById("keywords");
  const onlyMatching = document.getElementById("only-matching");
  const onlyStarred = document.getElementById("only-starred");
  const shown = document.querySelector(".toolbar .shown");
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parseKeywords = (text) =>
    text.split(/[,;]/).map((k) => k.trim()).filter((k) => k.length > 1);

  // Marks go into text nodes only, never inside math (.math, typeset or not), so a
  // highlight leaves the server's markup and KaTeX's output alone.
  function highlight(el, pattern) {
    for (const mark of el.querySelectorAll("mark")) mark.replaceWith(mark.textContent);
    el.normalize();
    if (!pattern) return false;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement.closest(".math") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    let hit = false;
    for (const node of nodes) {
      const parts = node.data.split(pattern);
      if (parts.length === 1) continue;
      hit = true;
      node.replaceWith(...parts.map((part, i) => {
        if (i % 2 === 0) return document.createTextNode(part);
        const mark = document.createElement("mark");
        mark.textContent = part;
        return mark;
      }));
    }
    return hit;
  }

  function stars() {
    const value = store.get(STARS, {});
    // Anything but a plain object (an old format, a hand edit) starts afresh.
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  }

  function apply() {
    const keywords = parseKeywords(keywordsBox.value);
    const pattern = keywords.length
      ? new RegExp(`(${keywords.map(escape).join("|")})`, "gi") : null;
    const starred = stars();
    let visible = 0;
    for (const entry of entries) {
      let hit = false;
      for (const el of entry.querySelectorAll(".hl")) hit = highlight(el, pattern) || hit;
      const isStarred = Boolean(starred[entry.dataset.id]);
      const star = entry.querySelector("button.star");
      star.textContent = isStarred ? "★" : "☆";
      star.setAttribute("aria-pressed", String(isStarred));
      entry.classList.toggle("match", hit);
      entry.classList.toggle("starred", isStarred);
      const hide = (onlyMatching.checked && pattern && !hit) || (onlyStarred.checked && !isStarred);
      entry.hidden = Boolean(hide);
      if (!hide) visible += 1;
    }
    for (const section of document.querySelectorAll(".listing-section")) {
      const all = section.querySelectorAll("article.entry").length;
      const left = section.querySelectorAll("article.entry:not([hidden])").length;
      section.querySelector(".count").textContent = left === all ? `${all}` : `${left} of ${all}`;
    }
    shown.textContent = visible === entries.length ? "" : `${visible} of ${entries.length} shown`;
    // Math typesets from server/static/math.js (window.paperMirrorMath), when the page has any.
    if (window.paperMirrorMath) window.paperMirrorMath.typeset(document.body);
  }

  function save() {
    store.set(KEYWORDS, keywordsBox.value);
    store.set(ONLY_MATCHING, onlyMatching.checked);
    store.set(ONLY_STARRED, onlyStarred.checked);
    apply();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.star");
    if (!button) return;
    const id = button.closest("article.entry").dataset.id;
    const all = stars();
    if (all[id]) delete all[id]; else all[id] = Date.now();
    store.set(STARS, all);
    apply();
  });

  keywordsBox.value = store.get(KEYWORDS, "");
  onlyMatching.checked = store.get(ONLY_MATCHING, false);
  onlyStarred.checked = store.get(ONLY_STARRED, false);
  let timer = null;
  keywordsBox.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(save, 150); });
  onlyMatching.addEventListener("change", save);
  onlyStarred.addEventListener("change", save);
  // Another tab starred a paper or changed the keywords.
  window.addEventListener("storage", (event) => { if (event.key && event.key.startsWith("papermirror.")) {
    keywordsBox.value = store.get(KEYWORDS, ""); apply(); } });
  apply();
})();
