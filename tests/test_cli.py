"""The `papermirror` subcommands as a person runs them: fetch, backfill, import, and `up`."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time

import pytest
import redis
import requests
from rq.cron import CronScheduler

from papermirror import embedded
from papermirror.cli import children
from papermirror.commands import connect, url_file
from papermirror.settings import Settings
from papermirror.store import Store
from tests.stack import ROOT, Mirror

FOUR = "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml"
FOUR_PATH = "/rss/cs.LG+cs.AI+cs.CL+stat.ML"
CATEGORIES = "cs.LG,cs.AI,cs.CL,stat.ML"


def papermirror(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """Run the console script's entry point with only the given PAPERMIRROR_* settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PAPERMIRROR_")}
    base.update({f"PAPERMIRROR_{k.upper()}": v for k, v in env.items()})
    base.setdefault("PAPERMIRROR_CONTACT", "tests@papermirror.invalid")
    base.setdefault("PAPERMIRROR_ARXIV_MIN_INTERVAL", "0.2")
    return subprocess.run(
        [sys.executable, "-m", "papermirror.cli", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_up_runs_the_workers_cron_scheduler_and_indexer_in_one_process():
    settings = Settings.from_env({}, redis_url="redis://127.0.0.1:1/0", workers=3)
    procs = {c.name: c.argv for c in children(settings)}
    # Neither the scheduler nor the index's one writer has a process of its own (issue 9).
    assert sorted(procs) == ["web", "workers"], "no process of its own for scheduler or indexer"
    argv = procs["workers"]
    assert argv[1:3] == ["-m", "worker.run"] and "--cron" in argv and "--indexer" in argv
    # The three RQ workers are threads of that same process (worker.threads).
    assert argv[argv.index("--workers") + 1] == "3"
    # The URL (and any password in it) reaches rq through RQ_REDIS_URL, not argv.
    assert not any("redis://" in a for a in argv)


def test_fetch_without_a_running_mirror(redis_url, replay):
    replay.route(FOUR_PATH, FOUR)
    done = papermirror(
        "fetch", redis_url=redis_url, arxiv_rss_url=replay.url + "/rss/", categories=CATEGORIES
    )
    assert done.returncode == 0, done.stderr
    assert "No worker is running" in done.stderr
    assert "cs.AI" in done.stdout and "2026-09-24" in done.stdout
    replay.route("/rss/astro-ph", "rss2024_error_bad_archive_astroph.xml")
    failed = papermirror(
        "fetch", "astro-ph", redis_url=redis_url, arxiv_rss_url=replay.url + "/rss/"
    )
    assert failed.returncode == 1 and "Feed error" in failed.stdout


def test_import_starts_the_embedded_redis_when_alone(tmp_path, fixtures_dir):
    from tests.test_history import CS_PAGE
    from tests.test_snapshot import snapshot_records

    records = snapshot_records((fixtures_dir / CS_PAGE).read_bytes())
    path = tmp_path / "snapshot.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    data = tmp_path / "data"
    first = papermirror("import", str(path), data_dir=str(data))
    assert first.returncode == 0, first.stderr
    assert f"imported {len(records)} papers" in first.stdout
    # The data stayed in the data dir: a second run finds every record.
    again = papermirror("import", str(path), "--jobs", "0", data_dir=str(data))
    assert f"0 new, 0 merged, {len(records)} unchanged" in again.stdout
    assert papermirror("import", str(tmp_path / "nope.jsonl"), data_dir=str(data)).returncode == 2


def test_backfill(redis_url, replay):
    from tests.test_history import oai_handler

    replay.route("/oai", oai_handler)
    done = papermirror(
        "backfill",
        "--from",
        "2014-01-01",
        "--until",
        "2014-01-16",
        "--set",
        "cs",
        redis_url=redis_url,
        arxiv_oai_url=replay.url + "/oai",
    )
    assert done.returncode == 0, done.stderr
    assert "harvested 1002 papers in 2 pages" in done.stdout
    assert Store(redis.Redis.from_url(redis_url)).get("0811.3693").version == 18
    wrong = papermirror(
        "backfill", "--from", "2014-01-02", "--until", "2014-01-01", redis_url=redis_url
    )
    assert wrong.returncode == 2
    assert papermirror("backfill", "--from", "yesterday", "--until", "2014-01-01").returncode == 2


def test_up_schedules_and_fetch_uses_its_workers(tmp_path, replay):
    replay.route(FOUR_PATH, FOUR)
    data = tmp_path / "data"
    mirror = Mirror.start(
        data, replay.api_url, arxiv_rss_url=replay.url + "/rss/", categories=CATEGORIES
    )
    try:
        url = url_file(Settings.from_env({}, data_dir=str(data))).read_text().strip()
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while not CronScheduler.all(client):
            assert time.monotonic() < deadline, "rq cron did not register"
            time.sleep(0.2)
        [scheduler] = CronScheduler.all(client)
        assert {j.name for j in scheduler.get_jobs()} == {
            "daily-feeds",
            "daily-feeds-catch-up",
            "pending-sweeper",
        }
        done = papermirror("fetch", data_dir=str(data))
        assert done.returncode == 0, done.stderr
        assert "No worker is running" not in done.stderr
        page = requests.get(mirror.base + "/arxiv/cs.LG", timeout=10)
        assert page.status_code == 200 and "New submissions" in page.text
        home = requests.get(mirror.base + "/", timeout=10).text
        assert "2026-09-24" in home and "status-ok" in home
    finally:
        assert mirror.stop() == 0
    assert not url_file(Settings.from_env({}, data_dir=str(data))).exists()


def test_a_command_error_never_starts_a_second_redis(tmp_path):
    settings = Settings.from_env({}, data_dir=str(tmp_path))
    live = embedded.start(tmp_path / "redis", appendonly=False)
    try:
        url_file(settings).write_text(live.url)
        with pytest.raises(redis.ResponseError), connect(settings) as url:
            assert url == live.url
            raise redis.ResponseError("OOM command not allowed")
        # Still the one server: nothing else was started on its data dir.
        assert redis.Redis.from_url(live.url).ping()
    finally:
        live.stop()
