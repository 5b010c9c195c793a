// Typesets the math the server marked in titles and abstracts: <span class="math inline|display">.
// The server wraps only what lies between $…$, $$…$$, \(…\) or \[…\]; everything else on the
// page is plain escaped text, so a literal "$" in a title never turns into math.
// KaTeX is served by the mirror itself (no third-party request); MathJax from a configured URL
// is the alternative. Math inside a closed <details> is typeset when it opens.
// Other scripts (listing.js) may call window.paperMirrorMath.typeset(element) after they change
// the page, and must leave .math elements alone (no highlight inside math).
(() => {
  const script = document.currentScript;
  const renderer = script ? script.dataset.renderer : "katex";
  const mathjaxUrl = script ? script.dataset.mathjax : "";
  // Papers are untrusted: no \href, \url, \includegraphics or \html… (trust: false), and a
  // bound on macro expansion and sizes, so a crafted abstract cannot hang or flood the page.
  const KATEX_OPTIONS = { throwOnError: true, trust: false, strict: "ignore", maxExpand: 500, maxSize: 20 };
  // \mbox is gone from KaTeX 0.19; the blackboard letters are the macros authors most often
  // assume (seen on 2024-11-28: \RR, \PP). A fresh copy per formula: one paper's \gdef must
  // not change how the next paper on the page reads.
  const MACROS = {
    "\\mbox": "\\text{#1}",
    "\\RR": "\\mathbb{R}", "\\NN": "\\mathbb{N}", "\\ZZ": "\\mathbb{Z}", "\\QQ": "\\mathbb{Q}",
    "\\CC": "\\mathbb{C}", "\\PP": "\\mathbb{P}", "\\EE": "\\mathbb{E}", "\\FF": "\\mathbb{F}",
  };

  function source(el) {
    const text = el.textContent;
    for (const [open, close] of [["$$", "$$"], ["\\[", "\\]"], ["$", "$"], ["\\(", "\\)"]]) {
      if (text.startsWith(open) && text.endsWith(close) && text.length >= open.length + close.length) {
        return text.slice(open.length, text.length - close.length);
      }
    }
    return text;
  }

  function pending(root) {
    const all = root.matches && root.matches(".math") ? [root] : Array.from(root.querySelectorAll(".math"));
    // Only what a reader can see: math in a closed <details> waits for its toggle.
    return all.filter((el) => !el.dataset.typeset && !el.closest("details:not([open])"));
  }

  function katexTypeset(root) {
    const els = pending(root);
    if (els.length) loadKatexCss();
    for (const el of els) {
      el.dataset.typeset = "1";
      const tex = source(el);
      try {
        window.katex.render(tex, el, {
          ...KATEX_OPTIONS, macros: { ...MACROS }, displayMode: el.classList.contains("display"),
        });
        el.setAttribute("data-tex", tex);
      } catch {
        el.classList.add("math-error");  // KaTeX does not know this TeX: keep it as typed
      }
    }
  }

  let mathjax = null;
  function mathjaxTypeset(root) {
    const els = pending(root);
    if (!els.length || !mathjaxUrl) return;
    for (const el of els) el.dataset.typeset = "1";
    if (!mathjax) {
      mathjax = new Promise((resolve) => {
        window.MathJax = {
          loader: { load: ["ui/safe"] },  // drops javascript: links and styles from abstracts
          tex: { inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]] },
          options: { ignoreHtmlClass: ".*", processHtmlClass: "math" },
          startup: { typeset: false, ready: () => { window.MathJax.startup.defaultReady(); resolve(); } },
        };
        const s = document.createElement("script");
        s.src = mathjaxUrl;
        s.async = true;
        document.head.appendChild(s);
      });
    }
    mathjax.then(() => window.MathJax.typesetPromise(els)).catch(() => {});
  }

  // The page may name KaTeX itself (the server saw math while rendering it) or not (parts of it
  // came from a cache): then it is fetched here, only when the page holds math.
  let katexLoad = null;
  let katexCss = null;
  function loadKatexCss() {
    if (!katexCss) {
      katexCss = document.createElement("link");
      katexCss.rel = "stylesheet";
      katexCss.href = script.dataset.katexCss;
      document.head.appendChild(katexCss);
    }
  }
  function loadKatex() {
    loadKatexCss();
    if (window.katex) return Promise.resolve();
    if (!katexLoad) {
      katexLoad = new Promise((resolve, reject) => {
        const js = document.createElement("script");
        js.src = script.dataset.katexJs;
        js.onload = resolve;
        js.onerror = reject;
        document.head.appendChild(js);
      });
    }
    return katexLoad;
  }

  function typeset(root = document.body) {
    if (renderer === "katex") {
      if (window.katex) katexTypeset(root);
      else if (document.querySelector(".math")) loadKatex().then(() => katexTypeset(root)).catch(() => {});
    } else if (renderer === "mathjax") mathjaxTypeset(root);
  }

  window.paperMirrorMath = { typeset };
  document.addEventListener("toggle", (event) => {
    if (event.target.open) typeset(event.target);
  }, true);
  const ready = () => {
    document.documentElement.dataset.mathReady = "1";  // for tests and bench/render.py
    if (performance.mark) performance.mark("math-ready");
  };
  const start = () => {
    const hasMath = document.querySelector(".math");
    if (renderer === "katex" && hasMath && !window.katex) {
      loadKatex().then(() => typeset()).catch(() => {}).finally(ready);
      return;
    }
    typeset();
    ready();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
