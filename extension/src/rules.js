// declarativeNetRequest rules for the opt-in auto-redirect. Pure.

import { mirrorHost } from "./mirror.js";

export const REDIRECT_RULE_ID = 1;

// arxiv.org and www.arxiv.org abs and pdf pages. The path after /abs/ or
// /pdf/ is forwarded untouched; the mirror's resolver reads the id out of it.
export const ARXIV_PAGE_REGEX = "^https?://(?:www\\.)?arxiv\\.org/(abs|pdf)/([^?#]+)";

const ARXIV_HOST = /(^|\.)arxiv\.org$/i;

/**
 * The dynamic rules that send top-level arxiv.org abs/pdf navigations to
 * `<mirror>/go?url=https://arxiv.org/<abs|pdf>/<rest>`. Returns [] when the
 * mirror URL is unusable or is arXiv itself (that would loop).
 */
export function buildRedirectRules(mirrorUrl) {
  const host = mirrorHost(mirrorUrl);
  if (!host || ARXIV_HOST.test(host)) return [];
  let go;
  try {
    go = new URL("go", mirrorUrl).href;
  } catch {
    return [];
  }
  return [
    {
      id: REDIRECT_RULE_ID,
      priority: 1,
      action: {
        type: "redirect",
        redirect: {
          // The fixed parts are percent-encoded by hand: DNR cannot encode \1, \2.
          regexSubstitution: `${go}?url=https%3A%2F%2Farxiv.org%2F\\1%2F\\2`,
        },
      },
      condition: {
        regexFilter: ARXIV_PAGE_REGEX,
        requestDomains: ["arxiv.org"],
        resourceTypes: ["main_frame"],
        // Links on the mirror's own pages ("view on arXiv") must reach arXiv.
        excludedInitiatorDomains: [host],
      },
    },
  ];
}

/** The update that replaces whatever rules exist with `rules`. */
export function ruleUpdate(existingRules, rules) {
  return { removeRuleIds: existingRules.map((rule) => rule.id), addRules: rules };
}
