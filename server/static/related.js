// Paper pages: fill each "Related papers" section from /api/papers/<id>/related.
// Loaded after the page so the cached page itself never waits for the index.
(() => {
  for (const section of document.querySelectorAll("section.related[data-related]")) {
    fetch(section.dataset.related, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data || !data.papers || !data.papers.length) return;
        const list = document.createElement("ol");
        list.className = "related-list";
        for (const p of data.papers) {
          const item = document.createElement("li");
          const link = document.createElement("a");
          link.href = `/arxiv/${encodeURIComponent(p.id).replace(/%2F/g, "/")}`;
          link.textContent = p.title;
          const who = document.createElement("span");
          who.className = "related-authors";
          const names = p.authors.slice(0, 3).join(", ") + (p.authors.length > 3 ? " et al." : "");
          who.textContent = ` · ${names} · ${p.categories[0] || ""}`;
          item.append(link, who);
          list.append(item);
        }
        section.querySelector(".hint").before(list);
      })
      .catch(() => { /* the link below still works */ });
  }
})();
