// Stars, kept in this browser's localStorage as {id: time starred}: shared by listing pages,
// paper pages (a star button beside each paper's title) and the Starred page.
(function (root) {
  "use strict";
  const KEY = "papermirror.stars";

  function all() {
    try {
      const value = JSON.parse(localStorage.getItem(KEY));
      // Anything but a plain object (an old format, a hand edit) starts afresh.
      return value && typeof value === "object" && !Array.isArray(value) ? value : {};
    } catch { return {}; }
  }

  function save(stars) {
    try { localStorage.setItem(KEY, JSON.stringify(stars)); } catch { /* private mode */ }
  }

  /** Star or unstar ``id``; returns whether it is starred now. */
  function toggle(id) {
    const stars = all();
    if (stars[id]) delete stars[id]; else stars[id] = Date.now();
    save(stars);
    return Boolean(stars[id]);
  }

  /** Show a star button's state, named after its paper for screen readers. */
  function paint(button, starred, title) {
    button.textContent = starred ? "★" : "☆";
    button.setAttribute("aria-pressed", String(starred));
    const name = title || button.dataset.title || "this paper";
    button.setAttribute("aria-label", (starred ? "Unstar: " : "Star: ") + name);
    button.title = starred ? "Starred in this browser (click to unstar)" : "Star (kept in this browser)";
  }

  root.PaperStars = { KEY, all, save, toggle, paint };

  // Paper pages: a star beside each found paper's title.
  function paperPages() {
    for (const article of document.querySelectorAll("article.paper[id]")) {
      const heading = article.querySelector("h1.title");
      if (!heading || !article.querySelector(".abstract")) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "star";
      button.dataset.id = article.id;
      button.dataset.title = heading.textContent.trim();
      paint(button, Boolean(all()[article.id]));
      article.classList.add("has-star");
      article.prepend(button);
    }
    document.addEventListener("click", (event) => {
      const button = event.target.closest("article.paper button.star");
      if (button) paint(button, toggle(button.dataset.id));
    });
    window.addEventListener("storage", (event) => {
      if (event.key !== KEY) return;
      for (const b of document.querySelectorAll("article.paper button.star")) paint(b, Boolean(all()[b.dataset.id]));
    });
  }
  if (typeof document !== "undefined" && document.currentScript && document.currentScript.dataset.paperPage) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", paperPages);
    else paperPages();
  }
})(typeof self !== "undefined" ? self : this);
