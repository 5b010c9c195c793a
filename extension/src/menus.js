// The context-menu items, as data. Pure.

import { ARXIV_PDF_PATTERNS, MENU_ID, MENU_TITLE, PDF_MENU_ID } from "./config.js";

export const MENU_IDS = [MENU_ID, PDF_MENU_ID];

/**
 * The createProperties for chrome.contextMenus.create.
 * `pdfViewerItem`: add the "all" item on arXiv PDF URLs. Chrome needs it (its
 * PDF viewer is a plugin, where "page" does not match); Firefox's pdf.js is an
 * ordinary page, where it would only show the command twice.
 */
export function menuItems({ pdfViewerItem = true } = {}) {
  const items = [{ id: MENU_ID, title: MENU_TITLE, contexts: ["link", "selection", "page"] }];
  if (pdfViewerItem) {
    items.push({
      id: PDF_MENU_ID,
      title: MENU_TITLE,
      contexts: ["all"],
      documentUrlPatterns: ARXIV_PDF_PATTERNS,
    });
  }
  return items;
}
