// The options page: mirror URL, where to open, and the opt-in auto-redirect.

import { api } from "./src/browser.js";
import { DEFAULT_MIRROR_URL, DEFAULT_SETTINGS, REDIRECT_ORIGINS } from "./src/config.js";
import { normalizeMirrorUrl } from "./src/mirror.js";
import { normalizeSettings } from "./src/settings.js";

const form = document.getElementById("options");
const mirrorInput = document.getElementById("mirrorUrl");
const mirrorError = document.getElementById("mirrorError");
const redirectBox = document.getElementById("autoRedirect");
const redirectError = document.getElementById("redirectError");
const status = document.getElementById("status");

function show(element, message) {
  element.textContent = message ?? "";
  element.hidden = !message;
}

function flash(message) {
  status.textContent = message;
  setTimeout(() => {
    if (status.textContent === message) status.textContent = "";
  }, 2500);
}

async function load() {
  document.getElementById("defaultUrl").textContent = DEFAULT_MIRROR_URL;
  const settings = normalizeSettings(await api.storage.sync.get(DEFAULT_SETTINGS));
  mirrorInput.value = settings.mirrorUrl;
  form.elements.openIn.value = settings.openIn;
  const granted = await api.permissions.contains({ origins: REDIRECT_ORIGINS });
  redirectBox.checked = settings.autoRedirect && granted;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const mirror = normalizeMirrorUrl(mirrorInput.value);
  if (!mirror.ok) {
    show(mirrorError, mirror.error);
    mirrorInput.focus();
    return;
  }
  show(mirrorError, "");
  mirrorInput.value = mirror.url;
  await api.storage.sync.set({ mirrorUrl: mirror.url, openIn: form.elements.openIn.value });
  flash("Saved.");
});

form.elements.openIn.forEach((radio) =>
  radio.addEventListener("change", () => api.storage.sync.set({ openIn: radio.value })),
);

redirectBox.addEventListener("change", () => {
  show(redirectError, "");
  if (!redirectBox.checked) {
    // Give the host access back as well: nothing else uses it.
    api.storage.sync
      .set({ autoRedirect: false })
      .then(() => api.permissions.remove({ origins: REDIRECT_ORIGINS }))
      .catch(() => false)
      .then(() => flash("Auto-redirect off."));
    return;
  }
  // permissions.request must run straight from the click (Firefox insists).
  api.permissions.request({ origins: REDIRECT_ORIGINS }).then(
    async (granted) => {
      if (!granted) {
        redirectBox.checked = false;
        show(redirectError, "Access to arxiv.org was not granted, so the redirect stays off.");
        return;
      }
      await api.storage.sync.set({ autoRedirect: true });
      flash("Auto-redirect on.");
    },
    (error) => {
      redirectBox.checked = false;
      show(redirectError, String(error?.message ?? error));
    },
  );
});

load();
