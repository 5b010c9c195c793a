// The paper FAQ: a click asks the mirror to make it (POST), then the answers stream in by
// server-sent events (or polling when EventSource fails). The server sends each answer as
// sanitised HTML; the TL;DR arrives as plain text (`text`) and is set as a text node.
(() => {
  const script = document.currentScript;
  const mathjaxUrl = script ? script.dataset.mathjax : "";
  const api = (id) => `/api/papers/${id}/faq`;

  // --- MathJax: reuse the page's, or load it once ------------------------------------------
  let mathjax = null;
  function mathReady() {
    const mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) return mj.startup.promise;
    if (mj || document.querySelector("script[src*='mathjax']")) {
      // Configured or loading elsewhere on the page: wait for it to come up.
      return new Promise((resolve, reject) => {
        let tries = 0;
        const wait = () => {
          const m = window.MathJax;
          if (m && m.startup && m.startup.promise) resolve(m.startup.promise);
          else if (++tries > 100) reject(new Error("MathJax did not load"));
          else setTimeout(wait, 100);
        };
        wait();
      });
    }
    if (!mathjaxUrl) return Promise.reject(new Error("MathJax disabled"));
    if (!mathjax) {
      mathjax = new Promise((resolve) => {
        window.MathJax = {
          loader: { load: ["ui/safe"] },
          tex: { inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]] },
          options: { processHtmlClass: "mathjax", ignoreHtmlClass: "tex2jax_ignore|site" },
          startup: { typeset: false, ready: () => { window.MathJax.startup.defaultReady(); resolve(); } },
        };
        document.documentElement.classList.add("tex2jax_ignore");
        const s = document.createElement("script");
        s.src = mathjaxUrl;
        s.async = true;
        document.head.appendChild(s);
      });
    }
    return mathjax;
  }
  function typeset(el) {
    // The site's own renderer (math.js: KaTeX served here, or MathJax) when the page has it.
    if (window.paperMirrorMath) {
      window.paperMirrorMath.typeset(el);
      el.dataset.typeset = "1";
      return;
    }
    mathReady().then(() => window.MathJax.typesetPromise([el])).then(() => {
      el.dataset.typeset = "1";
    }).catch(() => {});
  }

  // --- one FAQ panel -------------------------------------------------------------------------
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  class Panel {
    constructor(root, id, version, latest, langSelect) {
      this.root = root;
      this.id = id;
      this.version = version;
      this.latest = latest;
      this.langSelect = langSelect;
      this.source = null;
      this.polling = null;
    }
    get lang() { return this.langSelect ? this.langSelect.value : ""; }
    query(extra) {
      const q = new URLSearchParams({ version: this.version, ...extra });
      if (this.lang) q.set("lang", this.lang);
      return q.toString();
    }
    reset() {
      this.stop();
      this.root.hidden = false;
      this.root.replaceChildren();
      this.status = el("p", "faq-status", "");
      this.status.setAttribute("aria-live", "polite");
      this.tldr = el("p", "faq-tldr");
      this.tldr.hidden = true;
      this.answers = el("div", "faq-answers mathjax");
      this.meta = el("p", "faq-meta");
      this.root.append(this.status, this.tldr, this.answers, this.meta);
      this.blocks = new Map();
    }
    stop() {
      if (this.source) { this.source.close(); this.source = null; }
      if (this.polling) { clearTimeout(this.polling); this.polling = null; }
    }
    say(text, isError) {
      this.status.textContent = text;
      this.status.classList.toggle("faq-error", !!isError);
    }
    async start(regenerate) {
      this.reset();
      this.say("Asking the model…");
      let resp;
      try {
        resp = await fetch(`${api(this.id)}?${this.query(regenerate ? { regenerate: "1" } : {})}`,
          { method: "POST", headers: { Accept: "application/json" } });
      } catch {
        this.say("The mirror could not be reached. Please try again.", true);
        return;
      }
      const data = await resp.json().catch(() => ({}));
      if (resp.status === 200 || resp.status === 202) this.listen();
      else this.say(data.error || `The FAQ is not available (HTTP ${resp.status}).`, true);
    }
    async check() {
      // On page load: show a cached FAQ, follow one being made, or offer an older version's.
      const resp = await fetch(`${api(this.id)}?${this.query({})}`).catch(() => null);
      if (!resp) return;
      const data = await resp.json().catch(() => ({}));
      if (resp.status === 200 || resp.status === 202) { this.reset(); this.listen(); }
      else if (resp.status === 404 && data.older && data.older.length) this.offerOlder(data.older);
    }
    offerOlder(older) {
      this.reset();
      const v = older[older.length - 1];
      this.say(`There is a FAQ of version ${v} of this paper; none yet for version ${this.version}.`);
      const show = el("button", "faq-older", `Show the v${v} FAQ`);
      show.type = "button";
      show.addEventListener("click", () => { this.version = v; this.reset(); this.listen(); });
      this.status.append(" ", show);
    }
    listen() {
      this.say("The model is writing…");
      const url = `${api(this.id)}/stream?${this.query({})}`;
      if (!window.EventSource) { this.poll(); return; }
      let got = false;
      const source = new EventSource(url);
      this.source = source;
      source.addEventListener("meta", (e) => { got = true; this.onMeta(JSON.parse(e.data)); });
      source.addEventListener("answer", (e) => { got = true; this.onAnswer(JSON.parse(e.data)); });
      source.addEventListener("retry", (e) => {
        const d = JSON.parse(e.data);
        this.say(`${d.reason} Trying again…`);
      });
      source.addEventListener("end", (e) => { this.stop(); this.onEnd(JSON.parse(e.data)); });
      source.onerror = () => {
        if (got) return;  // EventSource reconnects by itself and the server replays
        this.stop();
        this.poll();
      };
    }
    async poll() {
      const resp = await fetch(`${api(this.id)}/stream?${this.query({ poll: "1" })}`).catch(() => null);
      const data = resp && resp.ok ? await resp.json().catch(() => null) : null;
      if (data) {
        if (data.meta) this.onMeta(data.meta);
        for (const a of data.answers || []) this.onAnswer(a);
        if (data.end) { this.onEnd(data.end); return; }
      }
      this.polling = setTimeout(() => this.poll(), 1000);
    }
    onMeta(meta) { this.info = { ...(this.info || {}), ...meta }; }
    onAnswer(a) {
      if (a.q === -1) {
        this.tldr.hidden = false;
        this.tldr.replaceChildren(el("strong", "", "TL;DR: "), document.createTextNode(a.text));
        return;
      }
      let block = this.blocks.get(a.q);
      if (!block) {
        block = el("section", "faq-q");
        block.append(el("h3", "", a.question), el("div", "faq-a"));
        this.blocks.set(a.q, block);
        const later = [...this.blocks.entries()].filter(([q]) => q > a.q).map(([, b]) => b);
        const next = later.find((b) => b.parentNode === this.answers);
        this.answers.insertBefore(block, next || null);
      }
      const body = block.querySelector(".faq-a");
      body.innerHTML = a.html;  // sanitised by the server (markdown-it without HTML, then nh3)
      body.classList.toggle("faq-writing", !a.done);
      if (a.done) typeset(body);
    }
    onEnd(end) {
      if (end.status === "done") {
        this.say("");
        this.showMeta({ ...(this.info || {}), ...end });
      } else if (end.status === "failed") {
        this.say(`The FAQ could not be made: ${end.error}`, true);
      } else {
        this.say(end.error || "No FAQ is being made.");
      }
    }
    showMeta(m) {
      const source = m.source === "fulltext" ? "the full text" : "the abstract";
      const date = (m.generated || "").slice(0, 10);
      this.meta.textContent = `Made by ${m.model} on ${date} from ${source} of v${m.version}. ` +
        "Machine-made answers can be wrong. ";
      if (Number(m.version) < this.latest) {
        this.meta.prepend(el("strong", "faq-old", `This FAQ is of v${m.version}; the paper is now at v${this.latest}. `));
        const make = el("button", "faq-newer", `Make the FAQ for v${this.latest}`);
        make.type = "button";
        make.addEventListener("click", () => { this.version = this.latest; this.start(false); });
        this.meta.append(make, " ");
      }
      const regen = el("button", "faq-regenerate", "Regenerate");
      regen.type = "button";
      regen.title = "Ask the model again (once a day per FAQ)";
      regen.addEventListener("click", () => this.start(true));
      this.meta.append(regen);
    }
  }

  const panels = new WeakMap();
  function panelFor(button) {
    let section = button.closest("section.faq");
    if (!section) {
      // A listing entry: the panel goes inside the entry, made on first click.
      const entry = button.closest("article") || button.parentNode;
      section = entry.querySelector("section.faq");
      if (!section) {
        section = el("section", "faq faq-inline");
        section.append(el("div", "faq-panel"));
        entry.append(section);
      }
    }
    let panel = panels.get(section);
    if (!panel) {
      const root = section.querySelector(".faq-panel");
      const version = Number(button.dataset.version || section.dataset.version);
      const latest = Number(section.dataset.latest || version);
      panel = new Panel(root, button.dataset.faq, version, latest, section.querySelector(".faq-lang"));
      panels.set(section, panel);
    }
    return panel;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.faq-open");
    if (!button) return;
    const panel = panelFor(button);
    panel.version = Number(button.dataset.version);
    panel.start(false);
  });
  for (const section of document.querySelectorAll("section.faq[data-auto]")) {
    const button = section.querySelector("button.faq-open");
    if (button) panelFor(button).check();
  }
})();
