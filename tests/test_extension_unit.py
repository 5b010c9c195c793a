"""The browser extension's pure modules (node's test runner) and Firefox's linter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from server.extension import runtime_files

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
IN_CI = bool(os.environ.get("CI"))
# The one warning a single Chrome + Firefox manifest cannot avoid.
EXPECTED_LINT_WARNINGS = {"BACKGROUND_SERVICE_WORKER_IGNORED"}


def _missing(what: str) -> None:
    """In CI a missing tool is a failure; on a developer's machine, a skip."""
    if IN_CI:
        pytest.fail(f"{what} (CI must install it: see .ci/run)")
    pytest.skip(what)


def test_pure_modules_pass_node_test():
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed")
    files = sorted(
        p.relative_to(EXTENSION).as_posix() for p in (EXTENSION / "test").glob("*.test.js")
    )
    assert files, "no extension unit tests found"
    proc = subprocess.run(
        [node, "--test", *files], cwd=EXTENSION, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "# fail 0" in proc.stdout


def test_web_ext_lint_finds_nothing_wrong(tmp_path):
    web_ext = EXTENSION / "node_modules" / ".bin" / "web-ext"
    if not web_ext.exists():
        _missing("web-ext is not installed (npm ci in extension/)")
    # Lint exactly what the mirror ships in its zip.
    stage = tmp_path / "extension"
    for name, path in runtime_files(EXTENSION):
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, stage / name)
    proc = subprocess.run(
        [str(web_ext), "lint", "--self-hosted", "--source-dir", str(stage), "--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_UPDATE_NOTIFIER": "1"},
    )
    report = json.loads(proc.stdout)
    problems = report["errors"] + report["warnings"] + report["notices"]
    summary = [(p["code"], p["message"]) for p in problems]
    assert report["summary"]["errors"] == 0, summary
    assert {p["code"] for p in problems} <= EXPECTED_LINT_WARNINGS, summary
