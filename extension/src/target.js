// What a click opens. Pure: takes the menu's info, the tab and the settings,
// returns a plan that src/browser.js carries out.

import { OPEN_CURRENT_TAB } from "./config.js";
import { buildGoUrl, isMirrorUrl } from "./mirror.js";

// Long selections are cut: the server only needs the ids in them, and some
// servers refuse very long request lines.
export const MAX_SELECTION = 2000;

function webUrl(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Pick what the person pointed at: selection, then link, then page.
 * Returns {kind: "selection"|"link"|"page", value} or null.
 */
export function chooseTarget(info = {}, tab = {}) {
  const selection = String(info.selectionText ?? "")
    .replace(/\s+/g, " ")
    .trim();
  if (selection) return { kind: "selection", value: selection.slice(0, MAX_SELECTION) };
  const link = webUrl(info.linkUrl);
  if (link) return { kind: "link", value: link };
  // Inside Chrome's PDF viewer pageUrl is the PDF; frameUrl is a fallback for
  // browsers that report only the frame.
  const page = webUrl(info.pageUrl) ?? webUrl(info.frameUrl) ?? webUrl(tab?.url);
  if (page) return { kind: "page", value: page };
  return null;
}

/**
 * Decide what to open for a context-menu or toolbar click.
 * Returns null (do nothing) or {url, where: "new-tab"|"current-tab", index?, openerTabId?, tabId?}.
 */
export function planOpen(info, tab, settings) {
  const mirror = settings.mirrorUrl;
  // Never act on the mirror's own pages: no loops back into the mirror.
  const page = info?.pageUrl || tab?.url;
  if (isMirrorUrl(page, mirror)) return null;
  const target = chooseTarget(info, tab);
  if (!target) return null;
  // A link that already points into the mirror is opened as it is.
  const url =
    target.kind !== "selection" && isMirrorUrl(target.value, mirror)
      ? target.value
      : buildGoUrl(mirror, target.value);
  const hasTab = Number.isInteger(tab?.id) && tab.id >= 0;
  if (settings.openIn === OPEN_CURRENT_TAB && hasTab) {
    return { url, where: "current-tab", tabId: tab.id };
  }
  const plan = { url, where: "new-tab" };
  if (hasTab) {
    plan.openerTabId = tab.id;
    if (Number.isInteger(tab.index)) plan.index = tab.index + 1;
  }
  return plan;
}
