// Everything that touches the browser's extension APIs lives here.
// Firefox has `browser` and `chrome`; Chrome has `chrome` (and newer `browser`).

import { DEFAULT_SETTINGS, REDIRECT_ORIGINS } from "./config.js";
import { MENU_IDS, menuItems } from "./menus.js";
import { buildRedirectRules, ruleUpdate } from "./rules.js";
import { resolveUrl, toolbarOutcome } from "./mirror.js";
import { normalizeSettings } from "./settings.js";
import { planOpen } from "./target.js";

const RESOLVE_TIMEOUT = 8000;
const BADGE_SECONDS = 6;
const DEFAULT_TITLE = "Open this page in Paper Mirror"; // manifest.json action.default_title

export const api = globalThis.browser ?? globalThis.chrome;

/** Firefox opens PDFs in pdf.js, an ordinary page, so it needs no PDF-viewer item. */
export function isFirefox() {
  return typeof api?.runtime?.getBrowserInfo === "function";
}

export async function loadSettings() {
  return normalizeSettings(await api.storage.sync.get(DEFAULT_SETTINGS));
}

/** (Re)create the context-menu items; safe to call on every start. */
export async function createMenus() {
  await api.contextMenus.removeAll();
  for (const item of menuItems({ pdfViewerItem: !isFirefox() })) {
    await new Promise((resolve) => {
      api.contextMenus.create(item, () => {
        // Read lastError so a duplicate id never surfaces as an uncaught error.
        void api.runtime.lastError;
        resolve();
      });
    });
  }
}

export function isMenuId(id) {
  return MENU_IDS.includes(id);
}

/** Carry out a plan from planOpen(). Returns the tab that shows the mirror. */
export async function openPlan(plan) {
  if (!plan) return null;
  if (plan.where === "current-tab") return api.tabs.update(plan.tabId, { url: plan.url });
  const props = { url: plan.url };
  if (plan.index !== undefined) props.index = plan.index;
  if (plan.openerTabId !== undefined) props.openerTabId = plan.openerTabId;
  try {
    return await api.tabs.create(props);
  } catch {
    // The opener may be gone, or in another window: open the tab anyway.
    return api.tabs.create({ url: plan.url });
  }
}

/**
 * Open the mirror for a menu click or a toolbar click. Returns the plan and
 * the id of the tab that shows the mirror (for tests), or null when nothing opened.
 */
export async function openInMirror(info, tab) {
  const plan = planOpen(info, tab, await loadSettings());
  if (!plan) return null;
  const opened = await openPlan(plan);
  return { ...plan, openedTabId: opened?.id };
}

/**
 * The toolbar button: ask the mirror which paper (or listing) the current page names and
 * open it; when it names none, or the mirror does not answer, say so in the button's badge
 * instead of opening a tab onto a "Nothing to open" page.
 */
export async function openFromToolbar(tab) {
  const settings = await loadSettings();
  const plan = planOpen({ pageUrl: tab?.url }, tab, settings);
  if (!plan) return null;
  let status = 0;
  let body = null;
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), RESOLVE_TIMEOUT);
    const response = await fetch(resolveUrl(settings.mirrorUrl, tab.url), {
      signal: controller.signal,
      cache: "no-store",
      credentials: "omit",
    });
    clearTimeout(timer);
    status = response.status;
    body = await response.json().catch(() => null);
  } catch {
    status = 0;
  }
  const outcome = toolbarOutcome(settings.mirrorUrl, status, body);
  if (outcome.badge) {
    await showBadge(tab, outcome.badge);
    return { badge: outcome.badge };
  }
  const opened = await openPlan({ ...plan, url: outcome.open });
  return { ...plan, url: outcome.open, openedTabId: opened?.id };
}

async function showBadge(tab, { text, title }) {
  const tabId = Number.isInteger(tab?.id) && tab.id >= 0 ? tab.id : undefined;
  const scope = tabId === undefined ? {} : { tabId };
  await api.action.setBadgeBackgroundColor?.({ ...scope, color: "#8a1c1c" });
  await api.action.setBadgeText({ ...scope, text });
  await api.action.setTitle({ ...scope, title });
  setTimeout(() => {
    api.action.setBadgeText({ ...scope, text: "" }).catch(() => {});
    api.action.setTitle({ ...scope, title: DEFAULT_TITLE }).catch(() => {});
  }, BADGE_SECONDS * 1000);
}

/**
 * Make the dynamic redirect rules match the settings: present only while the
 * auto-redirect is on and the person has granted access to arxiv.org.
 */
export async function syncRedirectRules() {
  if (!api.declarativeNetRequest) return [];
  const settings = await loadSettings();
  let granted = false;
  if (settings.autoRedirect) {
    granted = await api.permissions.contains({ origins: REDIRECT_ORIGINS });
  }
  const rules = settings.autoRedirect && granted ? buildRedirectRules(settings.mirrorUrl) : [];
  const existing = await api.declarativeNetRequest.getDynamicRules();
  await api.declarativeNetRequest.updateDynamicRules(ruleUpdate(existing, rules));
  return rules;
}
