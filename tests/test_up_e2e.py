"""End to end: `papermirror up` as a subprocess, from a pasted URL to the paper page."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.stack import Mirror

pytestmark = pytest.mark.slow


def open_page(base: str, path: str, timeout: float = 20) -> requests.Response:
    """GET a paper page, following its 202 'fetching' refreshes like a browser would."""
    deadline = time.monotonic() + timeout
    while (page := requests.get(base + path, timeout=10)).status_code == 202:
        assert time.monotonic() < deadline, "paper was never fetched"
        time.sleep(0.5)
    return page


def test_url_to_page_restart_and_clean_stop(tmp_path, replay):
    data_dir = tmp_path / "data"
    mirror = Mirror.start(data_dir, replay.api_url, workers=2)
    try:
        resp = requests.get(
            mirror.base + "/go",
            allow_redirects=False,
            timeout=10,
            params={"url": "https://arxiv.org/abs/hep-ex/0406020v1"},
        )
        assert (resp.status_code, resp.headers["Location"]) == (302, "/arxiv/hep-ex/0406020v1")
        page = open_page(mirror.base, resp.headers["Location"])
        assert page.status_code == 200
        assert "arXiv:hep-ex/0406020v1" in page.text
        health = requests.get(mirror.base + "/healthz", timeout=5).json()
        assert health["workers"] == 2 and health["redis"] == "ok"
    finally:
        code = mirror.stop()
    # Ctrl-C stops every child cleanly and the port is free again.
    assert code == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(mirror.base.rsplit(":", 1)[1])), timeout=1)

    # The embedded Redis kept its data: after a restart the page needs no arXiv call.
    calls = len(replay.requests("/api/query"))
    mirror = Mirror.start(data_dir, replay.api_url, workers=1)
    try:
        assert requests.get(mirror.base + "/arxiv/hep-ex/0406020v1", timeout=10).status_code == 200
        assert len(replay.requests("/api/query")) == calls
    finally:
        assert mirror.stop() == 0


def test_a_fresh_install_has_listings_within_a_minute(tmp_path, replay):
    # The scheduler's catch-up runs as it starts and finds cs.AI never fetched.
    from tests.test_listings import ALL_FEED

    replay.route("/rss/cs.AI", ALL_FEED)
    started = time.monotonic()
    mirror = Mirror.start(tmp_path / "data", replay.api_url, workers=1, categories="cs.AI")
    try:
        deadline = started + 60
        while (page := requests.get(mirror.base + "/arxiv/cs.AI", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, "no listing a minute after `papermirror up`"
            time.sleep(0.5)
        assert page.text.count('<article class="entry"') > 100
        # One fetch (a request that timed out on a loaded machine may be retried once or twice).
        assert 1 <= len(replay.requests("/rss/cs.AI")) <= 3
    finally:
        assert mirror.stop() == 0
