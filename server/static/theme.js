// Light or dark: the system's choice unless the reader picked one with the header's button,
// which this browser remembers (localStorage). Runs before the stylesheet, so no flash.
(() => {
  const KEY = "papermirror.theme";
  const root = document.documentElement;
  let saved = null;
  try { saved = localStorage.getItem(KEY); } catch { /* storage off */ }
  if (saved === "light" || saved === "dark") root.dataset.theme = saved;
  const dark = () => root.dataset.theme === "dark"
    || (!root.dataset.theme && window.matchMedia("(prefers-color-scheme: dark)").matches);
  const sync = (button) => {
    button.setAttribute("aria-pressed", String(dark()));
  };
  document.addEventListener("DOMContentLoaded", () => {
    const button = document.querySelector("button.theme");
    if (!button) return;
    sync(button);
    button.addEventListener("click", () => {
      const next = dark() ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem(KEY, next); } catch { /* storage off */ }
      sync(button);
    });
  });
})();
