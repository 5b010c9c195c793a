// The Copy buttons: title, authors, abstract and link as on Cool Papers, or arXiv's BibTeX entry.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button || !navigator.clipboard) return;
  const label = button.dataset.label || (button.dataset.label = button.textContent);
  navigator.clipboard.writeText(button.dataset.copy).then(() => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  }).catch(() => { button.textContent = "Copy failed"; });
});
