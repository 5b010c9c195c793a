// Render $…$ and $$…$$ in abstracts only; titles and author names stay plain text.
window.MathJax = {
  // ui/safe drops javascript: links and styles that an author could put in an abstract.
  loader: { load: ["ui/safe"] },
  tex: { inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]] },
  options: { processHtmlClass: "mathjax", ignoreHtmlClass: "tex2jax_ignore|site" },
  startup: { typeset: true },
};
document.documentElement.classList.add("tex2jax_ignore");
