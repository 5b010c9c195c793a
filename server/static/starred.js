// The Starred page: the papers starred in this browser, newest star first, read through
// /api/papers/<id> (which also fetches a paper the mirror does not hold yet).
(() => {
  const Stars = window.PaperStars;
  const list = document.querySelector(".starred-list");
  const emptyNote = document.querySelector(".starred-empty");
  const openAll = document.querySelector(".open-all");
  const FOLD = 10;

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function card(id, when, paper, state) {
    const article = el("article", { className: "entry starred", id });
    article.dataset.id = id;
    const star = el("button", { type: "button", className: "star" });
    Stars.paint(star, true, paper ? paper.title : id);
    article.append(star);
    const link = el("a", { href: `/arxiv/${id}`, textContent: paper ? paper.title : `arXiv:${id}` });
    article.append(el("h3", { className: "entry-title" }, link));
    if (paper) {
      const names = (paper.authors || []).map((a) => a.name);
      const authors = el("p", { className: "entry-authors" },
        names.slice(0, names.length > FOLD + 2 ? FOLD : names.length).join(", "));
      if (names.length > FOLD + 2) authors.append(` and ${names.length - FOLD} more`);
      article.append(authors);
    }
    const meta = el("p", { className: "entry-meta" }, el("span", { className: "arxiv-id", textContent: `arXiv:${id}` }));
    for (const [i, c] of ((paper && paper.categories) || []).entries()) {
      meta.append(el("a", { className: i ? "cat" : "cat primary", href: `/arxiv/${c}`, textContent: c }));
    }
    if (state) meta.append(el("span", { className: "hint", textContent: state }));
    meta.append(el("time", { dateTime: new Date(when).toISOString(), textContent: `starred ${new Date(when).toLocaleDateString()}` }));
    article.append(meta);
    if (paper && paper.abstract) {
      article.append(el("details", { className: "entry-abstract" }, el("summary", { textContent: "Abstract" }),
        el("p", { textContent: paper.abstract })));
    }
    return article;
  }

  async function paperOf(id) {
    try {
      const resp = await fetch(`/api/papers/${id}`, { headers: { Accept: "application/json" } });
      if (resp.status === 200) return [await resp.json(), null];
      if (resp.status === 202) return [null, "being fetched from arXiv: reload in a moment"];
      if (resp.status === 404) return [null, "arXiv has no such paper"];
      return [null, "arXiv could not be reached just now"];
    } catch {
      return [null, "the mirror could not be reached"];
    }
  }

  async function render() {
    const stars = Object.entries(Stars.all()).sort((a, b) => Number(b[1]) - Number(a[1]));
    emptyNote.hidden = stars.length > 0;
    openAll.hidden = stars.length === 0;
    openAll.querySelector("a").href = "/arxiv/" + stars.slice(0, 50).map(([id]) => id).join(",");
    const found = await Promise.all(stars.map(([id]) => paperOf(id)));
    list.replaceChildren(...stars.map(([id, when], i) => card(id, when, ...found[i])));
  }

  list.addEventListener("click", (event) => {
    const star = event.target.closest("button.star");
    if (!star) return;
    const article = star.closest("article");
    const on = Stars.toggle(article.dataset.id);
    Stars.paint(star, on, article.querySelector(".entry-title").textContent);
    article.classList.toggle("starred", on);
  });
  window.addEventListener("storage", (event) => { if (event.key === Stars.KEY) render(); });
  render();
})();
