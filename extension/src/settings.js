// Settings as stored in chrome.storage.sync, made safe to use. Pure.

import { DEFAULT_SETTINGS, OPEN_CURRENT_TAB, OPEN_NEW_TAB } from "./config.js";
import { normalizeMirrorUrl } from "./mirror.js";

export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS);

/** Fill in defaults and drop invalid values from what storage returned. */
export function normalizeSettings(raw = {}) {
  const mirror = normalizeMirrorUrl(raw.mirrorUrl ?? DEFAULT_SETTINGS.mirrorUrl);
  return {
    mirrorUrl: mirror.ok ? mirror.url : DEFAULT_SETTINGS.mirrorUrl,
    openIn: raw.openIn === OPEN_CURRENT_TAB ? OPEN_CURRENT_TAB : OPEN_NEW_TAB,
    autoRedirect: raw.autoRedirect === true,
  };
}
