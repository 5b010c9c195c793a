// The browser every test script drives: Debian's chromium with the flags tests/browser.py sets.
const { chromium } = require("playwright-core");

exports.launch = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: JSON.parse(process.env.CHROMIUM_ARGS),
  });
