// Constants shared by the background script, the options page and the tests.
// server/extension.py rewrites the DEFAULT_MIRROR_URL literal below when it
// serves the zip, so keep it on one line, in double quotes.

export const DEFAULT_MIRROR_URL = "http://127.0.0.1:8000/";

export const MENU_ID = "open-in-mirror";
// Chrome shows extension items inside its PDF viewer only for the "all"
// context, and contexts cannot differ per page, so the PDF viewer gets a
// second registration of the same command.
export const PDF_MENU_ID = "open-in-mirror-pdf";
export const MENU_TITLE = "Open in Paper Mirror";

// Match patterns ("*.arxiv.org" also matches arxiv.org itself).
export const ARXIV_PDF_PATTERNS = ["*://*.arxiv.org/pdf/*"];

// What the opt-in auto-redirect asks for, and only when it is switched on.
export const REDIRECT_ORIGINS = ["*://arxiv.org/*", "*://www.arxiv.org/*"];

export const OPEN_NEW_TAB = "new-tab";
export const OPEN_CURRENT_TAB = "current-tab";

export const DEFAULT_SETTINGS = Object.freeze({
  mirrorUrl: DEFAULT_MIRROR_URL,
  openIn: OPEN_NEW_TAB,
  autoRedirect: false,
});
