"""Paper pages against a real worker and the replay arXiv: versions arXiv lacks, history fill."""

from __future__ import annotations

import time

import pytest

from papermirror.records import Paper, Version
from papermirror.store import Store
from server import create_app


@pytest.fixture(scope="module")
def client(stack):
    return create_app(stack.settings).test_client()


def api_calls(stack) -> int:
    return len(stack.replay.requests("/api/query"))


def test_a_version_arxiv_lacks_says_so_and_links_the_real_one(client, stack):
    """2104.12255 has v1 only: v3 must neither spin forever nor link a dead PDF."""
    body = client.get("/arxiv/2104.12255v3").get_data(as_text=True)
    deadline = time.monotonic() + 30
    while "arXiv has v1 only" not in body and time.monotonic() < deadline:
        assert "Checking arXiv for version 3" in body or "Fetching" in body
        time.sleep(0.5)
        body = client.get("/arxiv/2104.12255v3").get_data(as_text=True)
    assert "arXiv has v1 only" in body and 'href="/arxiv/2104.12255v1"' in body
    assert "pdf/2104.12255v3" not in body and "abs/2104.12255v3" not in body
    assert 'http-equiv="refresh"' not in body
    # Asked once: later visits do not ask arXiv again for a version it just said it lacks.
    calls = api_calls(stack)
    for _ in range(3):
        assert "arXiv has v1 only" in client.get("/arxiv/2104.12255v3").get_data(as_text=True)
    assert api_calls(stack) == calls


def test_a_feed_only_paper_gets_its_history_on_first_view(client, stack):
    """The daily feed gives no dates; the first view queues the normal batched fetch."""
    store = Store(stack.redis)
    store.upsert(
        Paper(
            id="2405.13786", version=1, title="From the feed", source="rss", versions=(Version(1),)
        )
    )
    body = client.get("/arxiv/2405.13786").get_data(as_text=True)
    assert "being fetched from arXiv" in body
    assert 'name="citation_date" content=""' not in body
    deadline = time.monotonic() + 30
    while not store.get("2405.13786").published and time.monotonic() < deadline:
        time.sleep(0.2)
    paper = store.get("2405.13786")
    assert paper.published and paper.versions[0].date
    body = client.get("/arxiv/2405.13786").get_data(as_text=True)
    assert "<dt>Submitted</dt>" in body and "being fetched" not in body
    assert f'<meta name="citation_date" content="{paper.published[:10].replace("-", "/")}">' in body
