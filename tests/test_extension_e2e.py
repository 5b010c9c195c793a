"""The browser extension in real headless Chromium against `papermirror up` and replay arXiv.

The Playwright script (extension/test/e2e.mjs) drives Debian's chromium with
the unpacked extension; this test starts the servers it talks to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stack import Mirror

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = bool(os.environ.get("CI"))


def test_extension_in_headless_chromium(tmp_path, replay):
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must `apt-get install -y chromium`")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    node = shutil.which("node")
    assert node, "node is not installed"
    assert (EXTENSION / "node_modules" / "playwright-core").is_dir(), (
        "playwright-core is missing: run `npm ci` in extension/"
    )
    mirror = Mirror.start(tmp_path / "data", replay.api_url, workers=2)
    try:
        proc = subprocess.run(
            [node, "--test", "--test-reporter=spec", "test/e2e.mjs"],
            cwd=EXTENSION,
            env={**os.environ, "MIRROR_URL": mirror.base + "/", "CHROMIUM": CHROMIUM},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        mirror.stop()
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-12000:] + proc.stderr[-4000:]
