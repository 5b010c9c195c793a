"""The web server against a real Redis, a real RQ worker and the replay arXiv server."""

from __future__ import annotations

import dataclasses
import time

import pytest
from rq import Queue

from papermirror import keys
from papermirror.records import Author, Paper
from papermirror.store import Store
from server import create_app
from tests.stack import ROOT, stack_settings

ACK = "Thank you to arXiv for use of its open access interoperability."


@pytest.fixture(scope="module")
def app(stack):
    app = create_app(stack.settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def api_calls(stack) -> int:
    return len(stack.replay.requests("/api/query"))


def test_first_visit_fetches_then_serves_from_cache(client, stack):
    before = api_calls(stack)
    resp = client.get("/arxiv/2104.12255")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert '<h1 class="title">0</h1>' in body  # the real paper is titled "0"
    assert "https://arxiv.org/pdf/2104.12255" in body
    assert ACK in body
    assert api_calls(stack) == before + 1
    assert client.get("/arxiv/2104.12255").status_code == 200
    assert api_calls(stack) == before + 1


def test_old_style_paper_with_escaped_abstract(client):
    resp = client.get("/arxiv/astro-ph/0601001")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "https://arxiv.org/abs/astro-ph/0601001" in body
    # The abstract holds a literal "<" that must reach the page escaped.
    assert "&lt;" in body


def test_version_asked_for_drives_the_links(client):
    resp = client.get("/arxiv/quant-ph/0201082v1")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "https://arxiv.org/pdf/quant-ph/0201082v1" in body
    # arXiv has no HTML for a 2002 paper; ar5iv renders it.
    assert "https://ar5iv.labs.arxiv.org/html/quant-ph/0201082" in body


def test_recent_papers_link_arxiv_html(client):
    body = client.get("/arxiv/2405.13786v1").get_data(as_text=True)
    assert "https://arxiv.org/html/2405.13786v1" in body


def test_affiliations_are_shown(client):
    body = client.get("/arxiv/hep-ex/0406020").get_data(as_text=True)
    assert 'class="aff"' in body


def test_non_canonical_ids_redirect_to_canonical(client):
    resp = client.get("/arxiv/1406.02661")
    assert resp.status_code == 301
    assert resp.headers["Location"].endswith("/arxiv/1406.2661")
    resp = client.get("/arxiv/math.GT/0309136")
    assert resp.status_code == 301
    assert resp.headers["Location"].endswith("/arxiv/math/0309136")


def test_several_papers_on_one_page(client):
    resp = client.get("/arxiv/2202.06271,1707.08567v1")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert body.count('<article class="paper"') == 2


def test_unknown_paper_is_404_and_negatively_cached(client, stack):
    resp = client.get("/arxiv/2401.99999")
    assert resp.status_code == 404
    assert "arXiv has no paper" in resp.get_data(as_text=True)
    before = api_calls(stack)
    assert client.get("/arxiv/2401.99999").status_code == 404
    assert api_calls(stack) == before


def test_not_an_id_is_a_helpful_404(client):
    resp = client.get("/arxiv/not-a-paper")
    assert resp.status_code == 404
    assert "neither an arXiv identifier" in resp.get_data(as_text=True)


def test_conditional_get_gets_304(client):
    first = client.get("/arxiv/2202.12139")
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]
    again = client.get("/arxiv/2202.12139", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_slow_arxiv_gives_a_self_refreshing_202(stack):
    app = create_app(dataclasses.replace(stack.settings, fetch_wait=0.3))
    stack.replay.inject("slow", count=1, delay=2.0, path="/api/query")
    try:
        resp = app.test_client().get("/arxiv/1912.04900")  # used by no other test here
    finally:
        stack.replay.clear()
    assert resp.status_code == 202
    body = resp.get_data(as_text=True)
    assert 'http-equiv="refresh"' in body and "Fetching" in body
    assert resp.headers["Cache-Control"] == "no-store"


def test_unreachable_arxiv_gives_a_clear_503(client, stack):
    stack.replay.inject("drop", count=10)
    try:
        resp = client.get("/arxiv/2502.07719")
    finally:
        stack.replay.clear()
    assert resp.status_code == 503
    body = resp.get_data(as_text=True)
    assert "arXiv did not answer" in body and "https://arxiv.org/abs/2502.07719" in body
    # The reader sees a plain reason: no exception text, no internal URL, no id_list.
    for leak in ("Error", "127.0.0.1", "id_list", "Traceback"):
        assert leak not in body, leak
    assert resp.headers["Retry-After"]
    # arXiv is back: the background retry fetches the paper, and the reader's next
    # visit shows it, whatever error_ttl (30 s here) says.
    deadline = time.monotonic() + 30
    while Store(stack.redis).get_blob("2502.07719") is None:
        assert time.monotonic() < deadline, "the background retry never fetched the paper"
        time.sleep(0.1)
    assert client.get("/arxiv/2502.07719").status_code == 200
    assert not stack.redis.exists(keys.ARXIV_TROUBLE)


def test_go_redirects_to_the_paper_page(client):
    resp = client.get("/go", query_string={"url": "https://arxiv.org/abs/2104.12255v1"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/arxiv/2104.12255v1"


def test_go_never_leaves_the_mirror(client):
    for target in ("https://evil.example/", "//evil.example/abs/2104.12255", "javascript:1"):
        resp = client.get("/go", query_string={"url": target})
        if resp.status_code == 302:  # a paper here, or a search here for free text
            assert resp.headers["Location"].startswith(("/arxiv/", "/search?q="))
        else:
            assert resp.status_code == 404


def test_prefix_form(client):
    resp = client.get("/https://arxiv.org/abs/2104.12255")
    assert (resp.status_code, resp.headers["Location"]) == (302, "/arxiv/2104.12255")
    resp = client.get("/arxiv.org/pdf/2104.12255v1")
    assert (resp.status_code, resp.headers["Location"]) == (302, "/arxiv/2104.12255v1")
    resp = client.get("/arxiv.org/abs?id=hep-th/9901001")
    assert (resp.status_code, resp.headers["Location"]) == (302, "/arxiv/hep-th/9901001")
    assert client.get("/https://example.com/nothing").status_code == 404


def test_api_resolve(client):
    resp = client.get("/api/resolve", query_string={"url": "arXiv:hep-th/9901001v2"})
    assert resp.status_code == 200
    assert resp.get_json() == {
        "papers": [{"id": "hep-th/9901001", "version": 2}],
        "path": "/arxiv/hep-th/9901001v2",
    }
    resp = client.get("/api/resolve", query_string={"url": "nothing here"})
    assert resp.status_code == 404 and "error" in resp.get_json()


def test_api_paper_record(client):
    resp = client.get("/api/papers/1707.08567")
    assert resp.status_code == 200
    record = resp.get_json()
    assert record["id"] == "1707.08567" and record["version"] >= 1
    assert len(record["authors"]) > 30
    assert client.get("/api/papers/2401.99999").status_code == 404
    assert client.get("/api/papers/abc").status_code == 404


def test_healthz_reports_redis_and_workers(client):
    data = client.get("/healthz").get_json()
    assert data["redis"] == "ok" and data["workers"] >= 1
    assert client.get("/healthz/live").status_code == 200


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("field", ["title", "abstract", "comment", "journal_ref", "author"])
def test_paper_text_is_escaped(client, stack, field):
    pid = {
        "title": "2501.00001",
        "abstract": "2501.00002",
        "comment": "2501.00003",
        "journal_ref": "2501.00004",
        "author": "2501.00005",
    }[field]
    paper = Paper(
        id=pid, version=1, title="Safe", abstract="Safe", authors=(Author("A"),), source="api"
    )
    if field == "author":
        paper = dataclasses.replace(paper, authors=(Author(HOSTILE, (HOSTILE,)),))
    else:
        paper = dataclasses.replace(paper, **{field: HOSTILE})
    Store(stack.redis).upsert(paper)
    body = client.get(f"/arxiv/{pid}").get_data(as_text=True)
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(" in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_a_burst_of_first_visits_enqueues_one_job(redis_url, redis_client):
    # No worker here: the queue shows exactly what the visits asked for.
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0))
    client = app.test_client()
    for n in range(1, 21):
        assert client.get(f"/arxiv/2403.{n:05d}").status_code == 202
    assert Queue(keys.FETCH_QUEUE, connection=redis_client).count == 1
    assert Store(redis_client).pending_count() == 20


def test_licence_links_only_to_web_urls(client, stack):
    Store(stack.redis).upsert(
        Paper(id="2501.00010", version=1, title="L", license="javascript:alert(1)", source="api")
    )
    body = client.get("/arxiv/2501.00010").get_data(as_text=True)
    assert 'href="javascript:' not in body and "javascript:alert(1)" in body


def test_cached_pages_do_not_carry_another_hosts_links(client):
    client.get("/arxiv/2301.05651", headers={"Host": "evil.example"})
    body = client.get("/arxiv/2301.05651", headers={"Host": "mirror.example"}).get_data(
        as_text=True
    )
    assert "evil.example" not in body and "http://mirror.example/arxiv/2301.05651" in body


def test_undecodable_query_is_a_400(client):
    for path in ("/go", "/api/resolve", "/arxiv/cs.AI", "/https://arxiv.org/abs"):
        # Raw non-UTF-8 bytes on the wire reach WSGI as latin-1 text.
        resp = client.get(path, environ_overrides={"QUERY_STRING": "url=\xff&date=\xe9"})
        assert resp.status_code == 400, path


def test_a_version_newer_than_stored_is_refreshed_once(redis_url, redis_client):
    Store(redis_client).upsert(Paper(id="2501.00011", version=1, title="V", source="api"))
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0))
    client = app.test_client()
    for _ in range(3):
        resp = client.get("/arxiv/2501.00011v99")
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "Checking arXiv for version 99" in body
        assert '<meta http-equiv="refresh"' in body
    assert Queue(keys.FETCH_QUEUE, connection=redis_client).count == 1
    # The check is over (the worker drained the id) and arXiv still has v1 only.
    Store(redis_client).clear_pending(["2501.00011"])
    body = client.get("/arxiv/2501.00011v99").get_data(as_text=True)
    assert "arXiv has v1 only" in body and 'href="/arxiv/2501.00011v1"' in body
    assert "v99" not in body.replace("version 99", "") and "refresh" not in body


def test_math_renderers_run_safely():
    # Abstracts are author-written TeX: \href{javascript:…}, \htmlClass and \style must not
    # take effect. KaTeX runs with trust: false (tests/test_surface_browser.py runs it);
    # MathJax, the optional CDN renderer, with its ui/safe extension.
    text = (ROOT / "server" / "static" / "math.js").read_text()
    assert "trust: false" in text and "maxExpand" in text
    assert 'loader: { load: ["ui/safe"] }' in text


@pytest.mark.parametrize(
    "path, location",
    [
        ("/abs/2104.12255", "/arxiv/2104.12255"),
        ("/pdf/2104.12255v1", "/arxiv/2104.12255v1"),
        ("/html/2104.12255", "/arxiv/2104.12255"),
        ("/list/cs.AI/new", "/arxiv/cs.AI"),
        ("/list/cs.AI/recent", "/arxiv/cs.AI"),
        ("/https://arxiv.org/list/cs.AI/new", "/arxiv/cs.AI"),
        ("/papers.cool/arxiv/cs.AI", "/arxiv/cs.AI"),
        ("/ui.adsabs.harvard.edu/abs/2017arXiv170603762V", "/arxiv/1706.03762"),
    ],
)
def test_arxiv_paths_on_the_mirrors_own_host(client, path, location):
    resp = client.get(path)
    assert (resp.status_code, resp.headers.get("Location")) == (302, location)


def test_go_with_a_url_on_the_mirrors_own_host(client):
    for url in ("http://localhost/abs/2104.12255", "localhost/pdf/2104.12255"):
        resp = client.get("/go", query_string={"url": url})
        assert (resp.status_code, resp.headers.get("Location")) == (302, "/arxiv/2104.12255")
    other = client.get("/go", query_string={"url": "http://example.com/abs/2104.12255"})
    assert other.status_code == 404
