// The options page: mirror URL, where to open, and the opt-in auto-redirect.
// Every option saves the same way: as it changes, then "Saved." (the address once it is
// valid, when the box loses focus or Enter is pressed).

import { api } from "./src/browser.js";
import { DEFAULT_MIRROR_URL, DEFAULT_SETTINGS, REDIRECT_ORIGINS } from "./src/config.js";
import { healthUrl, normalizeMirrorUrl } from "./src/mirror.js";
import { normalizeSettings } from "./src/settings.js";

const TEST_TIMEOUT = 5000;

const form = document.getElementById("options");
const mirrorInput = document.getElementById("mirrorUrl");
const mirrorError = document.getElementById("mirrorError");
const redirectBox = document.getElementById("autoRedirect");
const redirectError = document.getElementById("redirectError");
const status = document.getElementById("status");
const testButton = document.getElementById("test");
const connection = document.getElementById("connection");

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

async function save(values, message = "Saved.") {
  await api.storage.sync.set(values);
  flash(message);
}

async function load() {
  document.getElementById("defaultUrl").textContent = DEFAULT_MIRROR_URL;
  const settings = normalizeSettings(await api.storage.sync.get(DEFAULT_SETTINGS));
  mirrorInput.value = settings.mirrorUrl;
  form.elements.openIn.value = settings.openIn;
  const granted = await api.permissions.contains({ origins: REDIRECT_ORIGINS });
  redirectBox.checked = settings.autoRedirect && granted;
}

/** The typed address, normalised, or null (and the reason shown) when it is not a URL. */
function typedMirror() {
  const mirror = normalizeMirrorUrl(mirrorInput.value);
  if (!mirror.ok) {
    show(mirrorError, mirror.error);
    return null;
  }
  show(mirrorError, "");
  return mirror.url;
}

async function saveMirror() {
  const url = typedMirror();
  if (!url) {
    mirrorInput.focus();
    return;
  }
  mirrorInput.value = url;
  await save({ mirrorUrl: url });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  saveMirror();
});
mirrorInput.addEventListener("change", saveMirror);

form.elements.openIn.forEach((radio) =>
  radio.addEventListener("change", () => save({ openIn: radio.value })),
);

testButton.addEventListener("click", async () => {
  const url = typedMirror();
  if (!url) return;
  connection.className = "";
  connection.textContent = "Testing…";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TEST_TIMEOUT);
  let message;
  let ok = false;
  try {
    const response = await fetch(healthUrl(url), {
      signal: controller.signal,
      cache: "no-store",
      credentials: "omit",
    });
    const text = (await response.text()).trim();
    ok = response.ok && text === "ok";
    message = ok
      ? `Your mirror answered at ${url}.`
      : `Something answered at ${url}, but not a Paper Mirror (HTTP ${response.status}).`;
  } catch (error) {
    message = controller.signal.aborted
      ? `No answer from ${url} within ${TEST_TIMEOUT / 1000} s.`
      : `No answer from ${url}: is the mirror running, and is the address right?`;
  } finally {
    clearTimeout(timer);
  }
  connection.className = ok ? "ok" : "failed";
  connection.textContent = message;
});

redirectBox.addEventListener("change", () => {
  show(redirectError, "");
  if (!redirectBox.checked) {
    // Give the host access back as well: nothing else uses it.
    api.storage.sync
      .set({ autoRedirect: false })
      .then(() => api.permissions.remove({ origins: REDIRECT_ORIGINS }))
      .catch(() => false)
      .then(() => flash("Saved."));
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
      await save({ autoRedirect: true });
    },
    (error) => {
      redirectBox.checked = false;
      show(redirectError, String(error?.message ?? error));
    },
  );
});

load();
