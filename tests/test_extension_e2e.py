"""The browser extension in real headless Chromium against `papermirror up` and replay arXiv.

The Playwright script (extension/test/e2e.mjs) drives Debian's chromium with
the unpacked extension; this test starts the servers it talks to.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests import browser
from tests.stack import Mirror

pytestmark = pytest.mark.slow

EXTENSION = browser.ROOT / "extension"


def test_extension_in_headless_chromium(tmp_path, replay):
    browser.require_browser()
    mirror = Mirror.start(tmp_path / "data", replay.api_url, workers=2)
    try:
        proc = subprocess.run(
            ["node", "--test", "--test-reporter=spec", "test/e2e.mjs"],
            cwd=EXTENSION,
            env={**os.environ, "MIRROR_URL": mirror.base + "/", "CHROMIUM": browser.CHROMIUM},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        mirror.stop()
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-12000:] + proc.stderr[-4000:]
