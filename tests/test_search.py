"""Search over the real 1,504-paper day plus every API fixture: real Redis, real tantivy, real HTTP
routes through Flask's test client, and the real indexer following the stream."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import feedparser
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papermirror import embedded
from papermirror.arxiv.api_feed import parse_api_feed
from papermirror.arxiv.feeds import parse_feed
from papermirror.categories import parse_spec
from papermirror.daily import store_day
from papermirror.listings import Listings
from papermirror.search.analysis import name_tokens, text_tokens
from papermirror.search.indexer import Indexer
from papermirror.store import Store
from server import create_app
from tests.conftest import FIXTURES
from tests.replay import load_fixture
from tests.stack import stack_settings

DAY = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
XSS_ID = "2411.99999"


def corpus_papers():
    """The day's 1,504 papers and every paper of every API fixture."""
    papers = [i.paper for i in parse_feed(load_fixture(DAY)).items]
    for path in sorted(Path(FIXTURES).glob("api*.xml")):
        papers.extend(parse_api_feed(load_fixture(path.name)).papers)
    return papers


def wait_indexed(engine, count: int, timeout: float = 60.0) -> None:
    """Wait until the index holds ``count`` papers."""
    deadline = time.monotonic() + timeout
    while True:
        engine.refresh()
        try:
            if engine.count() >= count:
                return
        except Exception:  # noqa: BLE001 - the index may not exist for a moment
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the indexer did not catch up")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(test client, records by id): the corpus stored in Redis and indexed by the indexer."""
    tmp = tmp_path_factory.mktemp("search")
    server = embedded.start(tmp / "redis", appendonly=False)
    client = redis.Redis.from_url(server.url)
    papers = corpus_papers()
    store = Store(client)
    stored = store.upsert_many(papers)
    from papermirror.records import Paper

    hostile = Paper(
        id=XSS_ID,
        version=1,
        title="<script>alert(1)</script> Xssmarker & friends",
        abstract="An <img src=x onerror=alert(1)> xssmarker abstract with $<b>xssmarker</b>$ math.",
        categories=("cs.CR",),
        published="2024-11-27T00:00:00Z",
    )
    stored += store.upsert_many([hostile])
    # The day's listing too, through the daily job's own writer (for the "Related" links).
    store_day(store, Listings(client), parse_feed(load_fixture(DAY)), ["cs.AI"])
    index = tmp / "index"
    indexer = Indexer(client, index, commit_delay=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,), daemon=True)
    thread.start()
    app = create_app(stack_settings(server.url, "http://127.0.0.1:9/api", search_dir=str(index)))
    from papermirror.search.service import reader

    records = {p.id: p for p in stored}
    wait_indexed(reader(str(index)), len(records))
    yield app.test_client(), records
    stop.set()
    thread.join(10)
    server.stop()


def api(client, **params):
    resp = client.get("/api/search", query_string=params)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def all_hits(client, **params) -> list[dict]:
    """Every hit of a search, page after page."""
    out, page = [], 1
    while True:
        body = api(client, page=page, **params)
        out.extend(body["papers"])
        if len(out) >= body["total"] or not body["papers"]:
            assert len(out) == body["total"]
            return out
        page += 1


KNOWN = [
    ("2411.18150", "autonomous smooth planning path"),
    ("2411.18300", "scaling phantom attractors"),
    ("2411.18600", "kinks fractional sine-Gordon"),
    ("2401.04791", "localization open-set segmentation"),
    ("2407.04127", "photoplethysmography biometric remote"),
    ("2410.17773", "dilogarithm skein quiver"),
    ("2411.17850", "landmark anatomical reliability"),
    ("2411.18000", "jailbreaking adversarial multi-loss"),
    ("1201.4869", "nanopores helium luttinger"),
    ("hep-ex/0406020", "LHC sparticle reconstruction"),
    ("2202.06271", "scratch programs model-based"),
    ("quant-ph/0201082", "assembly quantum languages"),
]


@pytest.mark.parametrize(("paper_id", "words"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_items_are_in_the_top_3(corpus, paper_id, words):
    client, records = corpus
    for w in words.split():  # the words really are in the title
        assert set(text_tokens(w)) <= set(text_tokens(records[paper_id].title)), w
    ids = [p["id"] for p in api(client, q=words)["papers"][:3]]
    assert paper_id in ids


AUTHORS = [
    ("au:zygierewicz", "Jarosław Żygierewicz"),
    ('au:"Zygierewicz, J"', "Jarosław Żygierewicz"),
    ('au:"Jaroslaw Zygierewicz"', "Jarosław Żygierewicz"),
    ("au:remy", "Benjamin Rémy"),
    ('au:"Remy, Benjamin"', "Benjamin Rémy"),
    ('au:"Del Maestro, A"', "Del Maestro"),
    ("au:del_maestro", "Del Maestro"),
    ('au:"Maestro Adrian Del"', "Adrian Del Maestro"),
    ('au:"Ramirez, A"', "Aurora Ramírez"),
]


@pytest.mark.parametrize(("query", "name"), AUTHORS, ids=[a[0] for a in AUTHORS])
def test_author_search_without_accents_in_either_order(corpus, query, name):
    client, records = corpus
    want = {
        p.id
        for p in records.values()
        if any(set(name_tokens(name)) <= set(name_tokens(a.name)) for a in p.authors)
    }
    assert want
    got = {h["id"] for h in all_hits(client, q=query)}
    assert want <= got
    for paper_id in got:  # and every hit has such an author
        names = records[paper_id].authors
        assert any(set(name_tokens(name)) & set(name_tokens(a.name)) for a in names)


def test_initial_must_belong_to_the_same_author(corpus):
    client, records = corpus
    # "Subir Sachdev" co-wrote with "Adrian Del Maestro": S does not go with Del Maestro.
    for hit in all_hits(client, q='au:"Maestro, S"'):
        assert any(
            a.name.split()[-1] == "Maestro" and a.name[0] == "S" for a in records[hit["id"]].authors
        )


INITIALS = [
    # (query, surname, initials the author must have in this order), checked on the records
    ('au:"Bergner, E"', "Bergner", "E"),  # Julia E. Bergner: a middle initial finds her
    ('au:"Bergner, J E"', "Bergner", "JE"),
    ('au:"Bergner, J"', "Bergner", "J"),
    ('au:"E. Bergner"', "Bergner", "E"),
    ('au:"Rehg, M"', "Rehg", "M"),
]


def _initials_in_order(name: str, surname: str, initials: str) -> bool:
    words = name.replace("-", " ").split()
    if not words or words[-1] != surname:
        return False
    have = iter(w[0].upper() for w in words[:-1])
    return all(i in have for i in initials)  # a subsequence: in this order


@pytest.mark.parametrize(("query", "surname", "initials"), INITIALS, ids=[i[0] for i in INITIALS])
def test_author_initials_match_any_forename_in_order(corpus, query, surname, initials):
    client, records = corpus
    want = {
        p.id
        for p in records.values()
        if any(_initials_in_order(a.name, surname, initials) for a in p.authors)
    }
    assert want
    assert {h["id"] for h in all_hits(client, q=query)} == want


def test_initials_out_of_order_find_nothing(corpus):
    client, _ = corpus
    assert all_hits(client, q='au:"Bergner, E J"') == []


@pytest.mark.parametrize("name", ["Guido Burkard", "Burkard Guido", "Adrian Del Maestro"])
def test_a_name_alone_finds_that_authors_papers_first(corpus, name):
    client, records = corpus
    theirs = {
        p.id
        for p in records.values()
        if any(set(name_tokens(name)) <= set(name_tokens(a.name)) for a in p.authors)
    }
    assert len(theirs) >= 3
    ids = [h["id"] for h in all_hits(client, q=name)]
    assert set(ids[: len(theirs)]) == theirs


FILTERS = [
    {"q": "learning", "cat": "cs.AI+cs.LG-cs.CV"},
    {"q": "quantum", "cat": "quant-ph"},
    {"q": "lattice", "cat": "cond-mat-cond-mat.str-el"},
    {"q": "testing", "from": "2020-01-01", "until": "2023-12-31"},
    {"q": "the", "from": "2024-11-01", "cat": "math"},
    {"q": "model", "until": "2015-01-01", "sort": "date"},
    {"q": "network", "cat": "cs", "from": "2024-11-01", "until": "2024-11-30", "sort": "date"},
]


def announced_new() -> dict[str, str]:
    """The day's papers the feed announces as new (v1, new or cross): id -> the feed's day."""
    feed = parse_feed(load_fixture(DAY))
    return {i.paper.id: feed.date for i in feed.items if i.version == 1 and i.announce_type in NEW}


NEW = ("new", "cross")
ANNOUNCED = announced_new()


def _day_of(p) -> str:
    """The day a hit must count as published, from the fixture alone: v1's date, else the
    day the feed announced it as new, else the first of its id's month."""
    if p.published:
        return p.published[:10]
    if p.id in ANNOUNCED:
        return ANNOUNCED[p.id]
    digits = p.id.rpartition("/")[2][:4]
    century = "20" if int(digits[:2]) < 91 else "19"
    return f"{century}{digits[:2]}-{digits[2:]}-01"


@pytest.mark.parametrize("params", FILTERS, ids=[str(f) for f in FILTERS])
def test_filters_hold_for_every_hit(corpus, params):
    client, records = corpus
    hits = all_hits(client, **params)
    assert hits
    spec = parse_spec(params["cat"]) if "cat" in params else None
    for h in hits:
        p = records[h["id"]]
        # Checked against the fixture's record, not the index.
        assert spec is None or spec.matches(p.categories), (h["id"], p.categories)
        day = _day_of(p)
        assert params.get("from", "0000") <= day <= params.get("until", "9999"), (h["id"], day)
    if params.get("sort") == "date":
        days = [_day_of(records[h["id"]]) for h in hits]
        assert days == sorted(days, reverse=True)


def test_feed_papers_are_dated_by_their_announcement(corpus):
    client, records = corpus
    assert ANNOUNCED and set(ANNOUNCED.values()) == {"2024-11-28"}
    hits = {h["id"] for h in all_hits(client, q="ti:learning", **{"from": "2024-11-28"})}
    want = {
        i
        for i in ANNOUNCED
        if not records[i].published and "learn" in text_tokens(records[i].title)
    }
    assert len(want) >= 20 and want <= hits
    # A replaced paper known only from the feed is not new that day: its id's month dates it.
    replaced = [
        p
        for p in records.values()
        if p.source == "rss" and p.id not in ANNOUNCED and not p.published
    ]
    assert replaced
    assert not {p.id for p in replaced} & hits
    newest = [h["id"] for h in api(client, q="ti:learning", sort="date")["papers"]]
    assert [_day_of(records[i]) for i in newest] == ["2024-11-28"] * len(newest)


def test_category_filter_finds_every_paper_it_should(corpus):
    client, records = corpus
    spec = parse_spec("cs.AI+cs.LG-cs.CV")
    want = {
        p.id for p in records.values() if "cs.AI" in p.categories and spec.matches(p.categories)
    }
    got = {h["id"] for h in all_hits(client, q="cat:cs.AI", cat="cs.AI+cs.LG-cs.CV")}
    assert got == want


def _tokens_of(p) -> list[str]:
    parts = [p.title, p.abstract, " ".join(a.name for a in p.authors)]
    parts += [p.comment or "", p.journal_ref or "", p.doi or ""]
    return [list(text_tokens(t)) for t in parts]


def _has_phrase(fields: list[list[str]], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(f[i : i + n] == phrase for f in fields for i in range(len(f) - n + 1))


def test_phrase_and_exclusion(corpus):
    client, records = corpus
    phrase = list(text_tokens("neural network"))
    with_phrase = {h["id"] for h in all_hits(client, q='"neural network"')}
    # An exact phrase is looked for in titles and abstracts.
    want = {p.id for p in records.values() if _has_phrase(_tokens_of(p)[:2], phrase)}
    assert with_phrase == want and want
    both_words = {h["id"] for h in all_hits(client, q="neural network")}
    assert with_phrase < both_words  # the words apart match more
    excluded = {h["id"] for h in all_hits(client, q="neural -network")}
    assert excluded and not excluded & both_words
    for paper_id in excluded:
        assert not any("network" in f for f in _tokens_of(records[paper_id]))
    no_phrase = {h["id"] for h in all_hits(client, q='network -"neural network"')}
    assert no_phrase and not no_phrase & with_phrase


def test_or_widens(corpus):
    client, _ = corpus
    a = {h["id"] for h in all_hits(client, q="ti:graphene")}
    b = {h["id"] for h in all_hits(client, q="ti:superconductor")}
    assert {h["id"] for h in all_hits(client, q="ti:graphene OR ti:superconductor")} == a | b


def test_api_shape_and_pages(corpus):
    client, _ = corpus
    first = api(client, q="learning")
    assert set(first) == {"query", "total", "page", "papers"}
    assert first["query"] == "learning" and first["page"] == 1 and first["total"] > 50
    keys = {"id", "version", "title", "authors", "categories", "published", "score", "snippet"}
    assert all(set(p) == keys for p in first["papers"])
    assert len(first["papers"]) == 25
    scores = [p["score"] for p in first["papers"]]
    assert scores == sorted(scores, reverse=True)
    second = api(client, q="learning", page=2)
    assert not {p["id"] for p in first["papers"]} & {p["id"] for p in second["papers"]}
    assert "<mark>" in "".join(p["snippet"] for p in first["papers"])


BAD = [
    ({"q": ""}, "Type some words"),
    ({}, "Type some words"),
    ({"q": '"open'}, "quotation mark"),
    ({"q": "OR"}, "OR needs"),
    ({"q": "x", "cat": "nonsense"}, "not a category spec"),
    ({"q": "x", "from": "2024-13-01"}, "YYYY-MM-DD"),
    ({"q": "x", "from": "2024-02-01", "until": "2024-01-01"}, "ends before it starts"),
    ({"q": "x", "sort": "popular"}, "Sort by"),
    ({"q": "x", "page": "0"}, "page number"),
    ({"q": "x", "page": "100000"}, "Results stop"),
    ({"q": "!!! ???"}, "no words that can be searched"),
    ({"q": "x" * 600}, "too long"),
]


@pytest.mark.parametrize(("params", "message"), BAD, ids=[str(b[0])[:40] for b in BAD])
def test_bad_searches_get_400_in_plain_words(corpus, params, message):
    client, _ = corpus
    resp = client.get("/api/search", query_string=params)
    assert resp.status_code == 400
    assert message in resp.get_json()["error"]
    if params.get("q"):
        page = client.get("/search", query_string=params)
        assert page.status_code == 400 and b"Traceback" not in page.data


def test_results_page(corpus):
    client, _ = corpus
    resp = client.get("/search", query_string={"q": "graphene", "sort": "date"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<meta name="robots" content="noindex' in html and resp.headers["X-Robots-Tag"]
    assert "<mark>" in html and 'class="star"' in html and 'class="copy"' in html
    assert "/related/" in html and "/search/feed?" in html
    total = api(client, q="graphene")["total"]
    assert f"{total} paper" in html


def test_results_escape_everything_but_our_marks(corpus):
    client, _ = corpus
    html = client.get("/search", query_string={"q": "xssmarker"}).get_data(as_text=True)
    assert XSS_ID in html
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Xssmarker</mark>" in html
    assert "$&lt;b&gt;xssmarker&lt;/b&gt;$" in html  # inside math: escaped, never marked
    [hit] = api(client, q="xssmarker")["papers"]
    assert "<img" not in hit["snippet"] and "<mark>xssmarker</mark>" in hit["snippet"]


@pytest.mark.parametrize(
    "params", [{"q": "quantum"}, {"q": "learning", "cat": "cs.LG", "sort": "date", "page": "2"}]
)
def test_feed_parses_and_holds_the_pages_hits(corpus, params):
    client, _ = corpus
    resp = client.get("/search/feed", query_string=params)
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    feed = feedparser.parse(resp.data)
    assert not feed.bozo, feed.bozo_exception
    page_ids = [p["id"] for p in api(client, **params)["papers"]]
    assert [e.link.rsplit("/arxiv/", 1)[1] for e in feed.entries] == page_ids
    again = client.get(
        "/search/feed", query_string=params, headers={"If-None-Match": resp.headers["ETag"]}
    )
    assert again.status_code == 304  # cached like the listings' feeds


def test_the_box_searches_what_it_cannot_open(corpus):
    client, _ = corpus
    resp = client.get("/go", query_string={"url": "graphene twisted"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/search?q=graphene+twisted"
    resp = client.get("/go", query_string={"url": "https://arxiv.org/abs/2411.18150"})
    assert resp.headers["Location"] == "/arxiv/2411.18150"
    # A link that names no paper is not worth searching for: "Nothing to open", as before.
    assert client.get("/go", query_string={"url": "https://example.com/x"}).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "any_origin"),
    [
        ("GET", "/api/search?q=kinks", True),
        ("GET", "/api/search?q=", True),  # its 400 too: a script reads the message
        ("GET", "/api/search/status", True),
        ("GET", "/api/papers/2411.18600/related", True),
        ("GET", "/api/papers/2411.18600", True),
        ("GET", "/api/listings/cs.AI", True),
        ("GET", "/api/resolve?url=arXiv:2411.18600", True),
        ("HEAD", "/api/papers/2411.18600", True),
        ("POST", "/api/papers/2411.18600/faq", False),  # a write stays same-origin
        ("GET", "/search?q=kinks", False),  # pages are not an API
        ("GET", "/arxiv/2411.18600", False),
    ],
)
def test_every_api_read_may_come_from_any_origin(corpus, method, path, any_origin):
    client, _ = corpus
    resp = client.open(path, method=method)
    assert resp.status_code != 500  # (the FAQ's POST: 503, no model is configured here)
    assert (resp.headers.get("Access-Control-Allow-Origin") == "*") is any_origin


def test_related_papers(corpus):
    client, records = corpus
    paper = records["2411.18600"]
    body = client.get("/api/papers/2411.18600/related").get_json()
    assert body["id"] == "2411.18600"
    ids = [p["id"] for p in body["papers"]]
    assert 1 <= len(ids) <= 8 and "2411.18600" not in ids
    assert all(paper.primary_category in records[i].categories for i in ids)
    anywhere = client.get("/api/papers/2411.18600/related?same_category=0").get_json()
    assert anywhere["papers"] and "2411.18600" not in {p["id"] for p in anywhere["papers"]}
    page = client.get("/related/2411.18600")
    assert page.status_code == 200 and ids[0].encode() in page.data
    assert client.get("/api/papers/0000.00000/related").status_code == 404
    assert client.get("/api/papers/not-an-id/related").status_code == 404
    # The record itself is still served at its own route.
    assert client.get("/api/papers/2411.18600").get_json()["id"] == "2411.18600"


def test_paper_page_and_listing_link_to_related(corpus):
    client, _ = corpus
    html = client.get("/arxiv/2411.18600").get_data(as_text=True)
    assert 'data-related="/api/papers/2411.18600/related"' in html
    assert 'href="/related/2411.18600"' in html
    listing = client.get("/arxiv/cs.AI").get_data(as_text=True)
    entries = listing.count('<article class="entry"')
    assert entries > 100 and listing.count('class="related-link" href="/related/') == entries


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200), st.sampled_from(["", "cs.AI", "cs-cs.CV", "x"]))
def test_no_search_input_makes_a_500_or_unescaped_markup(corpus, text, cat):
    client, _ = corpus
    params = {"q": text, "cat": cat}
    for path in ("/search", "/api/search", "/search/feed"):
        resp = client.get(path, query_string=params)
        assert resp.status_code in (200, 304, 400), (path, resp.status_code)
        assert b"Traceback" not in resp.data
    html = client.get("/search", query_string=params).get_data(as_text=True)
    if re.search(r"<[A-Za-z/!?]", text):  # markup in the query is never reflected as markup
        assert text not in html


@pytest.mark.parametrize("q", ["learning", "au:smith", "quantum OR graph", "graphene -twisted"])
def test_api_papers_are_the_stored_records(corpus, q):
    """The API reads records as the codec's rows (no Paper built): the same as the records."""
    from papermirror.search import parse
    from papermirror.search.highlight import query_terms, snippet

    client, records = corpus
    body = api(client, q=q)
    assert body["papers"]
    terms = query_terms(parse(q))
    for got in body["papers"]:
        p = records[got["id"]]
        assert got == {
            "id": p.id,
            "version": p.version,
            "title": p.title,
            "authors": [a.name for a in p.authors],
            "categories": list(p.categories),
            "published": p.published,
            "score": got["score"],
            "snippet": snippet(p.abstract, terms),
        }
    assert any(a.affiliations for p in records.values() for a in p.authors)
