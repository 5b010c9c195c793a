"""parse_api_feed on every recorded API response (pure: no Redis, no HTTP)."""

from __future__ import annotations

import pytest

from papermirror.arxiv.api_feed import MalformedFeed, canonical_id, parse_api_feed
from papermirror.records import Author, Version


def parse(fixtures_dir, name):
    return parse_api_feed((fixtures_dir / name).read_bytes())


def test_every_api_fixture_parses(fixtures_dir):
    names = sorted(p.name for p in fixtures_dir.glob("api*.xml"))
    assert len(names) == 11
    papers = [p for name in names for p in parse(fixtures_dir, name).papers]
    assert len(papers) == 36
    for p in papers:
        assert p.source == "api"
        assert p.title and p.title == " ".join(p.title.split())
        assert p.abstract and p.abstract == p.abstract.strip()
        assert p.authors and all(a.name for a in p.authors)
        assert p.published.endswith("Z") and p.updated.endswith("Z")
        assert p.categories and len(set(p.categories)) == len(p.categories)
        assert p.versions[0] == Version(1, p.published)
        assert p.versions[-1].number == p.version
        assert "v" not in p.id.split("/")[-1]


def test_single_paper_with_title_zero(fixtures_dir):
    result = parse(fixtures_dir, "api2026_idlist_single_2104.12255v1.xml")
    assert result.error is None and result.total_results == 1
    (p,) = result.papers
    assert (p.id, p.version, p.title) == ("2104.12255", 1, "0")
    assert p.authors == (Author("Quan Thoi Minh Nguyen"),)
    assert p.categories == ("cs.CR",)
    assert p.published == p.updated == "2021-04-20T16:07:14Z"
    assert p.versions == (Version(1, "2021-04-20T16:07:14Z"),)
    assert p.comment is p.journal_ref is p.doi is None
    assert p.abstract.startswith("What is the funniest number in cryptography? 0.")
    assert p.extra["links"]["pdf"] == "https://arxiv.org/pdf/2104.12255v1"


def test_old_style_id_affiliations_and_escaped_summary(fixtures_dir):
    (p,) = parse(fixtures_dir, "api2026_idlist_oldstyle_astro-ph_0601001.xml").papers
    assert (p.id, p.version) == ("astro-ph/0601001", 1)
    assert p.authors[0] == Author("Andrew Gould", ("Ohio State",))
    assert p.authors[3] == Author("Andrzej Udalski", ("Warsaw University Observatory",))
    # The body has a leading space and "&lt;": the stored abstract is the plain text.
    assert p.abstract.startswith("We derive the frequencies")
    assert "V_max<17.5" in p.abstract and "Gould & Morgan (2003)" in p.abstract
    assert "&lt;" not in p.abstract and "&amp;" not in p.abstract
    assert p.comment.endswith("http://www.astronomy.ohio-state.edu/~gould/ogle_hot_jupiters.ps.gz")
    assert p.journal_ref == "ActaAstron.56:1-50,2006"


def test_affiliation_belongs_to_its_author(fixtures_dir):
    (p,) = parse(fixtures_dir, "api2026_idlist_oldstyle_hep-ex_0406020v1_affiliation.xml").papers
    assert p.id == "hep-ex/0406020"
    assert p.authors == (Author("Alessia Tricomi", ("for the ATLAS and CMS Collaborations",)),)


def test_several_affiliations_per_author_are_kept():
    body = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <entry><id>http://arxiv.org/abs/math/0309136v3</id><title>T</title><summary>S</summary>
    <published>2003-09-08T00:00:00Z</published><updated>2005-01-01T10:00:00-05:00</updated>
    <author><name>A</name><arxiv:affiliation>X</arxiv:affiliation>
      <arxiv:affiliation>Y</arxiv:affiliation></author>
    <author><name>B</name></author>
    <arxiv:primary_category term="math.GT"/><category term="math.GT"/><category term="math.AT"/>
    <link rel="license" href="http://creativecommons.org/licenses/by/4.0/"/>
  </entry></feed>"""
    (p,) = parse_api_feed(body).papers
    assert p.authors == (Author("A", ("X", "Y")), Author("B"))
    assert p.categories == ("math.GT", "math.AT")
    assert p.updated == "2005-01-01T15:00:00Z"
    assert p.versions == (Version(1, "2003-09-08T00:00:00Z"), Version(3, "2005-01-01T15:00:00Z"))
    assert p.license == "http://creativecommons.org/licenses/by/4.0/"


def test_cross_listed_categories_primary_first(fixtures_dir):
    (p,) = parse(fixtures_dir, "api2026_idlist_oldstyle_quant-ph_0201082v1.xml").papers
    assert (p.id, p.categories, p.primary_category) == (
        "quant-ph/0201082",
        ("quant-ph", "cs.PL"),
        "quant-ph",
    )


def test_2016_format_with_doi_journal_ref_and_wrapped_title(fixtures_dir):
    (p,) = parse(fixtures_dir, "api2016_idlist_single_1111.2011v2_doi_journalref.xml").papers
    assert (p.id, p.version) == ("1111.2011", 2)
    assert p.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert p.doi == "10.1103/PhysRevB.85.115117"
    assert p.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert p.comment == "8 pages, 3 figures. Published version"
    assert p.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert p.versions == (Version(1, "2011-11-08T18:48:36Z"), Version(2, "2012-04-02T12:38:54Z"))
    assert p.abstract.startswith("Theoretical description") and p.abstract.endswith("node.")


def test_2016_search_has_old_style_ids_and_escapes(fixtures_dir):
    result = parse(fixtures_dir, "api2016_search_au_del_maestro.xml")
    assert result.total_results == 31
    ids = [p.id for p in result.papers]
    assert "cond-mat/0412498" in ids and len(ids) == 10
    assert any('"p x p"' in p.abstract and "p >= 3" in p.abstract for p in result.papers)


def test_search_page_keeps_ampersand_and_doi(fixtures_dir):
    papers = parse(fixtures_dir, "api2026_search_all_testing_start0_max10.xml").papers
    by_id = {p.id: p for p in papers}
    assert by_id["2302.03287"].title == "ChatGPT and Software Testing Education: Promises & Perils"
    assert by_id["2302.03287"].versions[-1].number == 3
    assert by_id["2202.12139"].doi == "10.1109/ICSTW55395.2022.00035"
    assert by_id["2005.14124"].categories == ("cs.SE", "cs.CR", "cs.LG")


def test_silently_dropped_id_leaves_one_entry(fixtures_dir):
    result = parse(fixtures_dir, "api2026_idlist_two_ids_one_missing_0808.05394_1707.08567.xml")
    assert result.total_results == 1 and [p.id for p in result.papers] == ["1707.08567"]
    assert len(result.papers[0].authors) == 34


def test_error_feed(fixtures_dir):
    result = parse(fixtures_dir, "api2026_error_incorrect_id_abc_http400.xml")
    assert result.papers == []
    assert result.error == "incorrect id format for abc"
    assert result.error_id.endswith("#incorrect_id_format_for_abc")


def test_empty_feed(fixtures_dir):
    result = parse(fixtures_dir, "api2026_empty_idlist_0000.0000.xml")
    assert (result.papers, result.error, result.total_results) == ([], None, 0)


@pytest.mark.parametrize(
    "body",
    [b"", b"<feed", b"<html><body>Service Unavailable</body></html>", b"\x00garbage"],
)
def test_malformed_bodies_raise(body):
    with pytest.raises(MalformedFeed):
        parse_api_feed(body)


def test_truncated_real_feed_raises(fixtures_dir):
    body = (fixtures_dir / "api2026_search_all_testing_start0_max10.xml").read_bytes()
    with pytest.raises(MalformedFeed):
        parse_api_feed(body[: len(body) // 2])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2104.12255", ("2104.12255", None)),
        ("2104.12255v1", ("2104.12255", 1)),
        ("arXiv:1707.08567v12", ("1707.08567", 12)),
        ("0808.05394", ("0808.05394", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("solv-int/9901001v1", ("solv-int/9901001", 1)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("Math.GT/0309136v2", ("math/0309136", 2)),
        ("abc", None),
        ("2104.12255v", None),
        ("hep-th/990100", None),
        ("", None),
    ],
)
def test_canonical_id(text, expected):
    assert canonical_id(text) == expected
