// Render $…$ and $$…$$ in abstracts only; titles and author names stay plain text.
window.MathJax = {
  tex: { inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]] },
  options: { processHtmlClass: "mathjax", ignoreHtmlClass: "tex2jax_ignore|site" },
  startup: { typeset: true },
};
document.documentElement.classList.add("tex2jax_ignore");
