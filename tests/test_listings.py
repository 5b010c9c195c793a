"""Listings: storage, union of categories, and the pages, checked against the real 1,504-item feed.

The expected listing of each spec is computed here independently, from the
feed's XML with ElementTree (categories, announce types), not with the code
under test.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.daily import fetch_daily
from papermirror.listings import (
    Entry,
    Listings,
    combine,
    counts,
    decode_listing,
    encode_listing,
    expand,
)
from papermirror.records import Paper
from papermirror.store import Store
from tests.replay import load_fixture
from tests.stack import stack_settings

ALL_FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
ARCHIVES = (
    "astro-ph cond-mat physics quant-ph math cs econ eess gr-qc hep-ex hep-lat hep-ph hep-th "
    "math-ph nlin nucl-ex nucl-th q-bio q-fin stat"
).split()
DAY = "2024-11-28"
ARXIV = "{http://arxiv.org/schemas/atom}"
# spec -> (included terms, excluded terms), written out by hand.
SPECS = {
    "cs.AI": (["cs.AI"], []),
    "cs": (["cs"], []),
    "cs.AI,cs.CL": (["cs.AI", "cs.CL"], []),
    "cs.AI+cs.LG-cs.CV": (["cs.AI", "cs.LG"], ["cs.CV"]),
    "math-math.AP": (["math"], ["math.AP"]),
    "hep-th": (["hep-th"], []),
    "physics,astro-ph.CO": (["physics", "astro-ph.CO"], []),
    "stat.ML": (["stat.ML"], []),
    "q-bio+q-fin-q-bio.NC": (["q-bio", "q-fin"], ["q-bio.NC"]),
    "CS.lg": (["cs.LG"], []),
}


def feed_items(body: bytes) -> list[dict]:
    """id, feed announce type and categories of each item, read straight from the XML."""
    items = []
    for item in ET.fromstring(body).iter("item"):
        guid = item.findtext("guid").removeprefix("oai:arXiv.org:")
        paper_id, _, version = guid.rpartition("v")
        items.append(
            {
                "id": paper_id,
                "version": int(version),
                "type": item.findtext(ARXIV + "announce_type").strip(),
                "categories": [c.text for c in item.findall("category")],
            }
        )
    return items


def expected(spec: str, items: list[dict]) -> dict[str, str]:
    """id -> announce type on the spec's page, by arXiv's rules, without papermirror."""
    include = [t.lower() for t in SPECS[spec][0]]
    exclude = [t.lower() for t in SPECS[spec][1]]

    def hit(category: str, terms: list[str]) -> bool:
        c = category.lower()
        return c in terms or c.split(".")[0] in terms

    out = {}
    for item in items:
        cats = item["categories"]
        if not any(hit(c, include) for c in cats) or any(hit(c, exclude) for c in cats):
            continue
        primary = hit(cats[0], include)
        if item["type"].startswith("replace"):
            out[item["id"]] = "replace" if primary else "replace-cross"
        else:
            out[item["id"]] = "new" if primary else "cross"
    return out


@pytest.fixture(scope="module")
def all_items() -> list[dict]:
    return feed_items(load_fixture(ALL_FEED))


@pytest.fixture
def loaded(redis_url, redis_client, replay):
    """The 2024-11-28 all-archives feed fetched and stored; an app on that Redis."""
    replay.route("/rss/" + "+".join(ARCHIVES), ALL_FEED)
    settings = stack_settings(
        redis_url, replay.api_url, arxiv_rss_url=replay.url + "/rss/", categories=ARCHIVES
    )
    session = PoliteSession(settings, ArxivLimiter(redis_client, settings.arxiv_min_interval))
    report = fetch_daily(settings, redis_client, session)
    assert report.requests == 1 and report.ok and report.papers == 1504
    from server import create_app

    return create_app(settings).test_client()


def test_encoding_round_trips():
    entries = [Entry("2411.17700", "new", 1), Entry("hep-th/9901001", "replace-cross", 12)]
    assert decode_listing(encode_listing(entries)) == entries
    assert decode_listing(None) == []


def test_combine_keeps_the_primary_listing_and_sorts_by_section():
    day = {
        "cs.AI": [Entry("2411.00002", "cross", 1), Entry("2411.00001", "replace-cross", 3)],
        "cs.LG": [Entry("2411.00002", "new", 1), Entry("2411.00003", "cross", 2)],
    }
    assert combine(day) == [
        Entry("2411.00002", "new", 1),
        Entry("2411.00003", "cross", 2),
        Entry("2411.00001", "replace-cross", 3),
    ]
    assert counts(combine(day)) == {"new": 1, "cross": 1, "replace": 1}


def test_expand_archives_and_categories():
    assert "cs.AI" in expand(["cs"]) and "cs" not in expand(["cs"])
    assert expand(["CS.ai", "hep-th"]) == ["cs.AI", "hep-th"]
    assert expand(["nonsense"]) == []


@pytest.mark.parametrize("spec", SPECS)
def test_listing_holds_exactly_the_matching_papers(loaded, all_items, spec):
    want = expected(spec, all_items)
    assert want, "a spec that matches nothing proves nothing"
    answer = loaded.get(f"/api/listings/{spec}?date={DAY}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["date"] == DAY
    got = {p["id"]: p["announce_type"] for p in body["papers"]}
    assert got == want
    assert len(body["papers"]) == len(got), "a paper listed twice"
    section = {"new": "new", "cross": "cross", "replace": "replace", "replace-cross": "replace"}
    assert sum(body["counts"].values()) == len(want)
    assert body["counts"]["new"] == sum(section[t] == "new" for t in want.values())


def test_api_shape_and_versions(loaded, all_items):
    body = loaded.get("/api/listings/cs.AI").get_json()  # no date: the latest day
    assert body["date"] == DAY and body["spec"] == "cs.AI"
    versions = {i["id"]: i["version"] for i in all_items}
    first = body["papers"][0]
    assert {"id", "version", "announce_type", "title", "authors", "abstract", "categories"} <= set(
        first
    )
    assert all(p["version"] == versions[p["id"]] for p in body["papers"])


def test_pages_feed_and_redirects(loaded):
    page = loaded.get("/arxiv/cs.AI")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "New submissions" in html and "Cross-lists" in html and "Replacements" in html
    assert 'href="https://arxiv.org/pdf/' in html and "listing.js" in html
    assert (
        loaded.get("/arxiv/cs.AI", headers={"If-None-Match": page.headers["ETag"]}).status_code
        == 304
    )
    feed = loaded.get("/arxiv/cs.AI/feed")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    atom = "{http://www.w3.org/2005/Atom}"
    api = loaded.get("/api/listings/cs.AI").get_json()
    assert len(root.findall(atom + "entry")) == len(api["papers"])
    # Feed readers show <content> first: it holds the abstract, not "Announce Type: new".
    contents = [e.findtext(atom + "content") for e in root.findall(atom + "entry")]
    assert contents == [p["abstract"] for p in api["papers"]]
    moved = loaded.get("/arxiv/CS.ai+cs.LG-cs.CV?date=2024-11-28")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/arxiv/cs.AI,cs.LG-cs.CV?date=2024-11-28")
    chooser = loaded.get("/arxiv?cat=cs.CL&cat=cs.AI")
    assert chooser.headers["Location"].endswith("/arxiv/cs.AI,cs.CL")


def test_missing_days_and_junk_are_clear_404s(loaded):
    assert loaded.get("/arxiv/cs.AI?date=2024-11-27").status_code == 404
    assert loaded.get("/api/listings/cs.AI?date=2024-11-27").status_code == 404
    assert loaded.get("/arxiv/cs.AI?date=yesterday").status_code == 404
    junk = loaded.get("/arxiv/not-a-category")
    assert junk.status_code == 404 and "category" in junk.get_data(as_text=True)
    assert loaded.get("/api/listings/cs.XYZ").status_code == 404


def test_previous_and_next_days(redis_client):
    listings = Listings(redis_client)
    for day in ("2024-11-26", "2024-11-27", "2024-11-29"):
        listings.write_day(day, {"cs.AI": [Entry("2411.00001", "new", 1)], "cs.CL": []})
    from papermirror.categories import parse_spec

    spec = parse_spec("cs")
    assert listings.latest(spec) == "2024-11-29"
    assert listings.neighbours(spec, "2024-11-27") == ("2024-11-26", "2024-11-29")
    assert listings.neighbours(parse_spec("cs.CL"), "2024-11-26") == (None, "2024-11-27")
    assert listings.has_day(parse_spec("cs.CL"), "2024-11-29")
    assert listings.day(parse_spec("cs.CL"), "2024-11-29") == []
    assert listings.dates(spec) == ["2024-11-29", "2024-11-27", "2024-11-26"]


def test_home_page_shows_the_fetch_status(loaded):
    html = loaded.get("/").get_data(as_text=True)
    assert "Daily listings" in html and 'href="/arxiv/cs"' in html
    assert DAY in html and "status-ok" in html
    assert 'name="cat" value="cs.AI"' in html


def test_feed_stays_well_formed_xml_with_control_characters(loaded, redis_url, redis_client):
    api = loaded.get("/api/listings/cs.AI").get_json()
    first = api["papers"][0]
    newer = Paper(
        id=first["id"],
        version=first["version"] + 1,
        title="Bad\x0cti\x00tle",
        abstract="a\x1bb",
        source="api",
    )
    Store(redis_client).upsert(newer)
    time.sleep(1.1)  # past the page cache's TTL
    feed = loaded.get("/arxiv/cs.AI/feed")
    titles = [t.text for t in ET.fromstring(feed.data).iter("{http://www.w3.org/2005/Atom}title")]
    assert "Badtitle" in titles


def test_trailing_slashes_reach_the_listing(loaded):
    assert loaded.get("/arxiv/cs.AI/").status_code == 200
    assert loaded.get("/arxiv/cs.AI/feed/").mimetype == "application/atom+xml"


def test_chooser_explains_a_choice_it_cannot_show(loaded):
    resp = loaded.get("/arxiv?cat=nope.XX")
    assert resp.status_code == 404 and "not a category spec" in resp.get_data(as_text=True)
