"""The repository stands alone: a fresh clone, with nothing beside it, passes its fixture tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DIRS = ("arxiv", "arxiv-extra", "llm")
# Spelled in pieces so this file does not match itself.
OUTSIDE = (".." + "/shared", "/wo" + "rk/", '"sha' + 'red"')


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_fresh_clone_runs_fixture_tests(tmp_path):
    """Clone HEAD into an empty folder and run a module that reads the recorded arXiv answers."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    assert [p.name for p in tmp_path.iterdir()] == ["clone"]  # nothing beside the clone
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMIRROR_")}
    env["PYTHONPATH"] = str(clone)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_arxiv_api.py",
            "tests/test_feeds.py",
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_nothing_names_a_path_outside_the_repository():
    """No tracked file (but the recorded fixtures) names a folder beside the repository."""
    files = _git("ls-files", cwd=ROOT).split()
    offenders = []
    for name in files:
        if name.startswith("tests/fixtures/") or name.endswith((".png", ".gz", ".bz2")):
            continue
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_text("utf-8", errors="replace")
        for needle in OUTSIDE:
            if needle in text:
                offenders.append(f"{name}: {needle}")
    assert offenders == []


@pytest.mark.parametrize("folder", FIXTURE_DIRS)
def test_fixtures_ship_with_their_sources(folder):
    """Every folder of recorded answers carries its SOURCES.md (provenance and licence)."""
    ours = ROOT / "tests" / "fixtures" / folder
    assert (ours / "SOURCES.md").is_file()
    assert len([p for p in ours.rglob("*") if p.is_file()]) > 1


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_no_tracked_link_points_outside_the_repository():
    """A symbolic link in the index (mode 120000) must stay inside the repository."""
    offenders = []
    for line in _git("ls-files", "-s", cwd=ROOT).splitlines():
        meta, name = line.split("\t", 1)
        mode, sha, _stage = meta.split()
        if mode != "120000":
            continue
        target = _git("cat-file", "blob", sha, cwd=ROOT)
        resolved = os.path.normpath(ROOT / Path(name).parent / target)
        if os.path.isabs(target) or not resolved.startswith(str(ROOT) + os.sep):
            offenders.append(f"{name} -> {target}")
    assert offenders == []
