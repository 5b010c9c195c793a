import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { REDIRECT_ORIGINS } from "../src/config.js";

const manifest = JSON.parse(readFileSync(new URL("../manifest.json", import.meta.url)));

test("one MV3 manifest for Chrome and Firefox", () => {
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.background.service_worker, "background.js");
  assert.deepEqual(manifest.background.scripts, ["background.js"]);
  assert.equal(manifest.background.type, "module");
  assert.match(manifest.browser_specific_settings.gecko.id, /@/);
});

test("minimal permissions, no host permissions by default", () => {
  // declarativeNetRequestWithHostAccess shows no prompt and can do nothing
  // without host access, which is only ever requested by the options page.
  assert.deepEqual(manifest.permissions.sort(), [
    "activeTab",
    "contextMenus",
    "declarativeNetRequestWithHostAccess",
    "storage",
  ]);
  assert.equal(manifest.host_permissions, undefined);
  assert.equal(manifest.content_scripts, undefined);
  assert.deepEqual(manifest.optional_host_permissions, REDIRECT_ORIGINS);
});

test("toolbar button and shortcut", () => {
  assert.equal(manifest.action.default_popup, undefined);
  assert.ok(manifest.commands._execute_action.suggested_key.default);
  assert.equal(manifest.options_ui.page, "options.html");
});

test("every file the manifest names exists", () => {
  const files = [
    manifest.background.service_worker,
    ...manifest.background.scripts,
    manifest.options_ui.page,
    ...Object.values(manifest.icons),
    ...Object.values(manifest.action.default_icon),
  ];
  for (const file of files) readFileSync(new URL(`../${file}`, import.meta.url));
});
