"""The hot path: micro-cache, 304s, content codings, stale copies, listing fragments, static URLs.

Real Redis (the session's, or one of its own for the outage test), real
Flask app through its WSGI callable (the micro-cache wraps it), no mocks.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import replace

import brotli
import pytest
import redis
import zstandard

from papermirror import embedded
from papermirror.listings import Entry, Listings
from papermirror.records import Author, Paper
from papermirror.settings import Settings
from papermirror.store import Store
from server import compress, create_app
from server.microcache import etag_matches

TTL = 0.3  # page_cache_seconds in these tests


def paper(pid: str, title: str, version: int = 1, cats=("cs.AI",)) -> Paper:
    return Paper(
        id=pid,
        version=version,
        title=title,
        authors=(Author("Ada Lovelace"), Author("Alan Turing")),
        abstract="We study things. " * 40,
        categories=tuple(cats),
        published="2024-11-26T18:00:00Z",
        updated="2024-11-26T18:00:00Z",
        source="api",
    )


def make_app(url: str, **overrides):
    values = dict(redis_url=url, page_cache_seconds=TTL, mathjax_url="", fetch_wait=0.0)
    values.update(overrides)
    app = create_app(Settings(**values))
    app.testing = True
    return app


@pytest.fixture
def app(redis_url, redis_client):
    store = Store(redis_client)
    store.upsert_many(
        [paper("2411.00001", "First title"), paper("2411.00002", "Second", cats=("cs.AI", "cs.CL"))]
    )
    Listings(redis_client).write_day(
        "2024-11-27",
        {
            "cs.AI": [Entry("2411.00001", "new", 1), Entry("2411.00002", "new", 1)],
            "cs.CL": [Entry("2411.00002", "cross", 1)],
        },
    )
    return make_app(redis_url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, ("identity",)),
        ("", ("identity",)),
        ("gzip, deflate, br, zstd", ("br", "zstd", "gzip", "identity")),
        ("gzip, deflate", ("gzip", "identity")),
        ("br;q=0.5, gzip;q=1.0", ("gzip", "br", "identity")),
        ("br;q=0, gzip", ("gzip", "identity")),
        ("*", ("br", "zstd", "gzip", "identity")),
        ("*;q=0.1, gzip", ("gzip", "br", "zstd", "identity")),
        ("identity", ("identity",)),
        ("BR", ("br", "identity")),
        ("gzip;q=junk, zstd", ("zstd", "identity")),
    ],
)
def test_accept_encoding_is_negotiated(header, expected):
    assert compress.accepted(header) == expected


@pytest.mark.parametrize(
    "header, match",
    [('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True), ("*", True), ('"x"', False)],
)
def test_if_none_match_comparison(header, match):
    assert etag_matches(header, '"abc"') is match


DECODE = {
    "br": brotli.decompress,
    "gzip": gzip.decompress,
    "zstd": lambda b: zstandard.ZstdDecompressor().decompress(b),
}


@pytest.mark.parametrize("path", ["/arxiv/2411.00001", "/arxiv/cs.AI", "/api/listings/cs.AI"])
@pytest.mark.parametrize("coding", ["br", "zstd", "gzip"])
def test_compressed_answers_decode_to_the_plain_one(client, path, coding):
    for _ in range(2):  # the miss that fills the cache, then the hit
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": coding})
        assert plain.status_code == packed.status_code == 200
        assert "Content-Encoding" not in plain.headers
        assert packed.headers["Content-Encoding"] == coding
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data)
        assert DECODE[coding](packed.data) == plain.data
        assert packed.headers["ETag"] == plain.headers["ETag"]


@pytest.mark.parametrize(
    "path", ["/arxiv/2411.00001", "/arxiv/cs.AI", "/arxiv/cs.AI/feed", "/api/listings/cs.AI"]
)
def test_a_matching_etag_gets_an_empty_304(client, path):
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public")
    for _ in range(2):  # from the cache, then once it has expired (revalidated through Flask)
        again = client.get(path, headers={"If-None-Match": etag, "Accept-Encoding": "br"})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == etag
        assert "Content-Encoding" not in again.headers
        time.sleep(TTL * 1.5)
    other = client.get(path, headers={"If-None-Match": '"not-it"'})
    assert other.status_code == 200 and other.data == first.data


def test_head_of_a_cached_page_has_no_body(client):
    body = client.get("/arxiv/2411.00001").data
    head = client.head("/arxiv/2411.00001")
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == len(body)


def test_a_page_changes_when_its_record_changes(client, redis_client):
    first = client.get("/arxiv/2411.00001")
    assert b"First title" in first.data
    Store(redis_client).upsert(paper("2411.00001", "Better title", version=2))
    time.sleep(TTL * 1.5)
    second = client.get("/arxiv/2411.00001", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert b"Better title" in second.data and b"First title" not in second.data
    assert second.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize("path", ["/arxiv/cs.AI", "/arxiv/cs.AI/feed", "/api/listings/cs.AI"])
def test_a_listing_changes_when_a_record_changes(client, redis_client, path):
    first = client.get(path)
    assert b"Second" in first.data
    Store(redis_client).upsert(paper("2411.00002", "Renamed paper"))
    time.sleep(TTL * 1.5)
    second = client.get(path)
    assert b"Renamed paper" in second.data and b"Second" not in second.data
    assert second.headers["ETag"] != first.headers["ETag"]


def test_listing_entries_are_numbered_and_reused_across_listings(client):
    from server.fragments import fragments

    ai = client.get("/arxiv/cs.AI").get_data(as_text=True)
    assert '<span class="n">1.</span> <a class="hl" href="/arxiv/2411.00001">' in ai
    assert '<span class="n">2.</span> <a class="hl" href="/arxiv/2411.00002">' in ai
    cached = len(fragments)
    cl = client.get("/arxiv/cs.CL").get_data(as_text=True)
    # 2411.00002 is a cross-list in cs.CL: another announce type, so its own fragment.
    assert '<span class="n">1.</span> <a class="hl" href="/arxiv/2411.00002">' in cl
    assert '<span class="kind">cross-list</span>' in cl and "\x00" not in cl + ai
    assert len(fragments) == cached + 1
    both = client.get("/arxiv/cs.AI,cs.CL").get_data(as_text=True)
    assert len(fragments) == cached + 1  # every entry of the union was rendered already
    assert both.count('class="entry"') == 2


def test_api_listing_is_the_same_json_and_cached(client):
    first = client.get("/api/listings/cs.AI")
    assert first.is_json and first.headers["Content-Type"] == "application/json"
    data = first.get_json()
    assert [p["id"] for p in data["papers"]] == ["2411.00001", "2411.00002"]
    assert data["counts"] == {"new": 2, "cross": 0, "replace": 0}
    assert client.get("/api/listings/cs.AI").data == first.data
    missing = client.get("/api/listings/cs.AI?date=2020-01-01")
    assert missing.status_code == 404 and "error" in missing.get_json()


def test_micro_cache_answers_within_its_freshness(redis_url, redis_client):
    app = make_app(redis_url, page_cache_seconds=30)
    client = app.test_client()
    Store(redis_client).upsert(paper("2411.00003", "Cached title"))
    assert b"Cached title" in client.get("/arxiv/2411.00003").data
    Store(redis_client).upsert(paper("2411.00003", "Newer title", version=2))
    # Still the copy in memory: a hit never reads Redis.
    assert b"Cached title" in client.get("/arxiv/2411.00003").data


def test_non_cacheable_answers_are_compressed_per_request(client):
    home = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert home.status_code == 200 and home.headers["Content-Encoding"] == "gzip"
    assert b"Paper Mirror" in gzip.decompress(home.data)
    assert home.headers["Cache-Control"] == "public, max-age=60" and home.headers["ETag"]
    again = client.get("/", headers={"If-None-Match": home.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize(
    "path, cache_control",
    [
        ("/extension", "public, max-age=3600"),
        ("/api/resolve?url=arXiv:2411.00001", "public, max-age=86400"),
        ("/api/papers/2411.00001", "public, max-age=60"),
    ],
)
def test_home_extension_and_api_have_etags_and_cache_control(client, path, cache_control):
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == cache_control
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_static_files_are_versioned_and_cached_for_a_year(client):
    page = client.get("/arxiv/2411.00001").get_data(as_text=True)
    start = page.index("/static/style.css?v=")
    url = page[start : page.index('"', start)]
    answer = client.get(url, headers={"Accept-Encoding": "br"})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["Content-Encoding"] == "br"
    plain = client.get("/static/style.css")
    assert brotli.decompress(answer.data) == plain.data
    assert plain.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/static/style.css?v=old").headers["Cache-Control"] == "public, max-age=300"


def test_cached_pages_outlive_a_redis_outage(tmp_path):
    server = embedded.start(tmp_path / "redis", appendonly=False)
    try:
        store = Store(redis.Redis.from_url(server.url))
        store.upsert_many([paper("2411.00001", "Kept title"), paper("2411.00002", "Uncached")])
        app = make_app(server.url, stale_seconds=2.0)
        client = app.test_client()
        assert client.get("/arxiv/2411.00001").status_code == 200
    finally:
        server.stop()
    time.sleep(TTL * 1.5)  # the copy is stale: the next request asks Flask, which finds no Redis
    stale = client.get("/arxiv/2411.00001", headers={"Accept-Encoding": "gzip"})
    assert stale.status_code == 200 and b"Kept title" in gzip.decompress(stale.data)
    assert "Age" in stale.headers
    # A page never cached gets the clear 503.
    down = client.get("/arxiv/2411.00002")
    assert down.status_code == 503 and b"Storage unavailable" in down.data
    time.sleep(2.0)  # past stale_seconds: no more stale copies
    assert client.get("/arxiv/2411.00001").status_code == 503


@pytest.mark.parametrize(
    "page, chunks, expected",
    [
        ("a\x00entries:new\x00b", {"new": [b"1", b"2"]}, b"a12b"),
        ("a\x00entries:new\x00b\x00entries:cross\x00c", {"new": [b"1"], "cross": [b"2"]}, b"a1b2c"),
        ("no slot here", {"new": [b"1"]}, b"no slot here"),
        ("é\x00entries:new\x00", {"new": ["ü".encode()]}, "éü".encode()),
    ],
)
def test_splice_fills_slots_in_order(page, chunks, expected):
    from server.fragments import splice

    assert splice(page, chunks) == expected


def test_compression_levels_follow_the_size():
    small = b"<p>hello paper</p>" * 100
    large = b"<p>hello paper</p>" * 20000
    for body in (small, large):
        for coding, data in compress.variants(body).items():
            if coding != "identity":
                assert DECODE[coding](data) == body
                assert len(data) < len(body) / 10


PRELOAD = 'rel="preload" as="style"'  # only when the server saw math on the page


def test_a_page_of_cached_entries_still_loads_the_math_renderer(redis_url, redis_client):
    store = Store(redis_client)
    math = replace(paper("2411.00007", "Math paper"), abstract="We bound $x^2 + y^2$ by one.")
    store.upsert_many([math, paper("2411.00008", "Plain paper")])
    entries = [Entry("2411.00007", "new", 1), Entry("2411.00008", "new", 1)]
    Listings(redis_client).write_day("2024-11-27", {"cs.AI": entries})
    client = make_app(redis_url, micro_cache_mb=0, page_cache_seconds=0.0).test_client()
    first = client.get("/arxiv/cs.AI").get_data(as_text=True)
    assert PRELOAD in first and '<span class="math inline">' in first
    store.upsert(paper("2411.00008", "Plain paper, renamed"))  # re-render, math entry cached
    second = client.get("/arxiv/cs.AI").get_data(as_text=True)
    assert "Plain paper, renamed" in second
    assert PRELOAD in second and '<span class="math inline">' in second
