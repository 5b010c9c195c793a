// Listing pages: keyword highlight and filter, and stars, kept in localStorage as on Cool Papers.
// MathJax loads only when an abstract is first opened: a day of cs holds hundreds.
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
  // The plain text of every highlightable element, to redo highlights from.
  const texts = new Map();
  for (const el of document.querySelectorAll(".entry .hl")) texts.set(el, el.textContent);

  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parseKeywords = (text) =>
    text.split(/[,;]/).map((k) => k.trim()).filter((k) => k.length > 1);

  function highlight(el, pattern) {
    const text = texts.get(el);
    if (!pattern) { el.textContent = text; return false; }
    const parts = text.split(pattern);
    if (parts.length === 1) { el.textContent = text; return false; }
    el.replaceChildren(...parts.map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const mark = document.createElement("mark");
      mark.textContent = part;
      return mark;
    }));
    return true;
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
    typesetOpen();
  }

  function save() {
    store.set(KEYWORDS, keywordsBox.value);
    store.set(ONLY_MATCHING, onlyMatching.checked);
    store.set(ONLY_STARRED, onlyStarred.checked);
    apply();
  }

  // --- MathJax, on demand ------------------------------------------------------------------
  const mathjaxUrl = document.currentScript ? document.currentScript.dataset.mathjax : "";
  let mathjax = null;
  function loadMathJax() {
    if (!mathjaxUrl) return Promise.reject(new Error("MathJax disabled"));
    if (!mathjax) {
      mathjax = new Promise((resolve) => {
        window.MathJax = {
          loader: { load: ["ui/safe"] },  // no javascript: links or styles from abstracts
          tex: { inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]] },
          startup: { typeset: false, ready: () => { window.MathJax.startup.defaultReady(); resolve(); } },
        };
        const script = document.createElement("script");
        script.src = mathjaxUrl;
        script.async = true;
        document.head.appendChild(script);
      });
    }
    return mathjax;
  }
  function typeset(el) {
    loadMathJax().then(() => window.MathJax.typesetPromise([el])).catch(() => {});
  }
  function typesetOpen() {
    if (!mathjax) return;
    for (const d of document.querySelectorAll("details.entry-abstract[open] p")) typeset(d);
  }

  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (details.matches && details.matches("details.entry-abstract") && details.open) {
      typeset(details.querySelector("p"));
    }
  }, true);

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
