// The mirror's base URL: validation, the /go link, and "is this the mirror?".
// Pure functions: no chrome.* here.

/**
 * Validate and normalise a mirror base URL typed by a person.
 * Returns {ok: true, url} with a trailing slash, or {ok: false, error}.
 */
export function normalizeMirrorUrl(input) {
  let text = String(input ?? "").trim();
  if (!text) return { ok: false, error: "Enter the address of your mirror." };
  // new URL() would quietly turn "not a url" into http://not%20a%20url/.
  if (/\s/.test(text)) return { ok: false, error: "That is not a URL: an address has no spaces." };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  let url;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: "That is not a valid URL." };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, error: "The mirror must be an http:// or https:// address." };
  }
  if (!url.hostname) return { ok: false, error: "The URL has no host." };
  // A host name (IDNs arrive in punycode), an IPv4 or a bracketed IPv6 address; anything
  // percent-encoded or otherwise odd is a typo, not a mirror.
  if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)$/.test(url.hostname)) {
    return { ok: false, error: "That is not a valid host name." };
  }
  if (url.username || url.password) {
    return { ok: false, error: "Leave user names and passwords out of the URL." };
  }
  if (url.search || url.hash) {
    return { ok: false, error: "The mirror URL takes no ?query or #fragment." };
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return { ok: true, url: url.href };
}

/** `<mirror>/go?url=<encoded target>`: the server's resolver decides the rest. */
export function buildGoUrl(mirrorUrl, target) {
  const url = new URL("go", mirrorUrl);
  url.searchParams.set("url", target);
  return url.href;
}

/** True when `candidate` is a page of the mirror (same origin, under its base path). */
export function isMirrorUrl(candidate, mirrorUrl) {
  if (!candidate || !mirrorUrl) return false;
  let page;
  let base;
  try {
    page = new URL(candidate);
    base = new URL(mirrorUrl);
  } catch {
    return false;
  }
  if (page.origin !== base.origin) return false;
  const basePath = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
  return page.pathname === basePath.slice(0, -1) || page.pathname.startsWith(basePath);
}

/** The mirror's host name, or "" when the URL does not parse. */
export function mirrorHost(mirrorUrl) {
  try {
    return new URL(mirrorUrl).hostname;
  } catch {
    return "";
  }
}

/** `<mirror>/healthz/live`: answers "ok" while the mirror's web server runs. */
export function healthUrl(mirrorUrl) {
  return new URL("healthz/live", mirrorUrl).href;
}

/** `<mirror>/api/resolve?url=<target>`: the papers (or listing) a URL names, as JSON. */
export function resolveUrl(mirrorUrl, target) {
  const url = new URL("api/resolve", mirrorUrl);
  url.searchParams.set("url", target);
  return url.href;
}

/**
 * What the toolbar button does once the mirror's resolver answered for the current page:
 * {open: <mirror URL>} or {badge: {text, title}} (nothing to open, or no answer).
 * `status` is the HTTP status (0 for a network failure), `body` the parsed JSON or null.
 */
export function toolbarOutcome(mirrorUrl, status, body) {
  if (status === 200 && body && typeof body.path === "string" && body.path.startsWith("/")
      && !body.path.startsWith("//")) {
    return { open: new URL(body.path.slice(1), mirrorUrl).href };
  }
  if (status === 404) {
    return { badge: { text: "?", title: "This page names no arXiv paper or listing." } };
  }
  return {
    badge: {
      text: "!",
      title: `Your mirror did not answer at ${mirrorUrl} (check the address in the options).`,
    },
  };
}
