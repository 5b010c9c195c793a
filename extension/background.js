// Background: a service worker in Chrome, an event page in Firefox (one file,
// named by both background.service_worker and background.scripts). Listeners
// are registered at the top level so a woken-up worker sees the event.

import {
  api,
  createMenus,
  isMenuId,
  openFromToolbar,
  openInMirror,
  syncRedirectRules,
} from "./src/browser.js";

/** The context-menu click handler (also called by the end-to-end test). */
async function handleMenuClick(info, tab) {
  if (!isMenuId(info?.menuItemId)) return null;
  return openInMirror(info, tab);
}

/** The toolbar button and its keyboard shortcut (_execute_action): the current tab. */
async function handleActionClick(tab) {
  return openFromToolbar(tab);
}

globalThis.handleMenuClick = handleMenuClick;
globalThis.handleActionClick = handleActionClick;
globalThis.syncRedirectRules = syncRedirectRules;

api.contextMenus.onClicked.addListener(handleMenuClick);
api.action.onClicked.addListener(handleActionClick);

api.runtime.onInstalled.addListener(() => {
  createMenus();
  syncRedirectRules();
});
api.runtime.onStartup.addListener(() => {
  createMenus();
  syncRedirectRules();
});

api.storage.onChanged.addListener((changes, area) => {
  if (area === "sync" && ("mirrorUrl" in changes || "autoRedirect" in changes)) {
    syncRedirectRules();
  }
});
api.permissions.onAdded?.addListener(() => syncRedirectRules());
api.permissions.onRemoved?.addListener(() => syncRedirectRules());
