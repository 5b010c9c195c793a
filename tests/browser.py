"""What the browser tests share: Debian's chromium, driven by playwright-core.

playwright-core comes from the extension's node_modules (`npm ci` in extension/), so
nothing is downloaded. A test writes a small Node script that takes its browser from
``tests/js/browser.cjs`` (``const { launch } = require(process.env.PM_BROWSER)``), runs
it with :func:`run_node` or :func:`start_node`, and reads the last JSON line it printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "extension" / "node_modules"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCHER = Path(__file__).with_name("js") / "browser.cjs"

# As root, without a sandbox; and quiet: with background networking on, Chromium
# keeps calling Google's hosts, which this closed network refuses many at a time.
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def require_browser() -> None:
    """Skip (locally) or fail (in CI) when node, playwright-core or chromium is missing."""
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    if not (shutil.which("node") and (NODE_MODULES / "playwright-core").is_dir()):
        missing("needs node and extension/node_modules (npm ci in extension/)")
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")


def node_env(**extra: str) -> dict[str, str]:
    """The environment a browser script runs in, with ``extra`` variables added."""
    return {
        **os.environ,
        "NODE_PATH": str(NODE_MODULES),
        "CHROMIUM": CHROMIUM,
        "CHROMIUM_ARGS": json.dumps(ARGS),
        "PM_BROWSER": str(LAUNCHER),
        **extra,
    }


def last_json(stdout: str) -> dict:
    """The last line a script printed, as JSON (earlier lines may be progress)."""
    return json.loads(stdout.strip().splitlines()[-1])


def run_node(script: Path, timeout: float = 180, **env: str) -> dict:
    """Run a browser script to its end; fail with its stderr if it failed."""
    done = subprocess.run(
        ["node", str(script)],
        env=node_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return last_json(done.stdout)


def start_node(script: Path, **env: str) -> subprocess.Popen:
    """Start a browser script that talks to the test line by line on stdout."""
    return subprocess.Popen(
        ["node", str(script)],
        env=node_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def serving(app, name: str = "127.0.0.1") -> Iterator[str]:
    """Serve a WSGI app on a free loopback port; yields its base URL (host ``name``)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{name}:{server.server_port}"
    finally:
        server.shutdown()
