"""papermirror.arxiv.oai against real OAI-PMH responses (arXiv, arXivRaw, oai_dc, errors, 503)."""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ET

import pytest

from papermirror.arxiv.oai import (
    clean_abstract,
    parse_oai,
    rfc2822_to_iso,
)
from papermirror.records import Author, Version

RAW_PAGE = "oai2014_listrecords_arXivRaw_resumption_page96001_1000records.xml.gz"
ARXIV_2015 = "oai2018_listrecords_arXiv_from2015-01-01_until2015-01-03.xml"
NAMESPACE = "{http://arxiv.org/OAI/arXivRaw/}"


@pytest.fixture(scope="module")
def raw_body(fixtures_dir) -> bytes:
    return gzip.decompress((fixtures_dir / RAW_PAGE).read_bytes())


@pytest.fixture(scope="module")
def raw_page(raw_body):
    return parse_oai(raw_body)


def test_arxivraw_page(raw_page):
    assert len(raw_page.papers) == 1000
    assert raw_page.resumption_token == "496549|96001"
    assert raw_page.complete_list_size == 907096
    assert raw_page.cursor == 95000
    assert raw_page.error is None and not raw_page.no_records and not raw_page.failed
    assert raw_page.response_date == "2014-01-16T11:10:55Z"
    assert all(p.source == "oai" for p in raw_page.papers)


def test_arxivraw_versions_match_the_xml(raw_page, raw_body):
    """Each paper's versions are the record's <version> elements, sorted by number."""
    root = ET.fromstring(raw_body)
    by_id = {p.id: p for p in raw_page.papers}
    for meta in root.iter(NAMESPACE + "arXivRaw"):
        paper = by_id[meta.findtext(NAMESPACE + "id")]
        numbers = sorted(int(v.get("version")[1:]) for v in meta.iter(NAMESPACE + "version"))
        assert [v.number for v in paper.versions] == numbers
        assert paper.version == max(numbers)
        assert paper.categories == tuple(meta.findtext(NAMESPACE + "categories").split())
        assert paper.published == paper.versions[0].date
        assert paper.updated == paper.versions[-1].date


def test_eighteen_versions(raw_page):
    paper = next(p for p in raw_page.papers if p.id == "0811.3693")
    assert paper.version == 18
    assert [v.number for v in paper.versions] == list(range(1, 19))
    assert paper.versions[0] == Version(1, "2008-11-22T16:22:20Z", "224kb")
    assert paper.versions[9] == Version(10, "2010-05-27T12:43:12Z", "513kb")
    assert paper.versions[-1] == Version(18, "2011-08-24T19:02:04Z", "517kb")
    assert paper.published == "2008-11-22T16:22:20Z"
    assert paper.updated == "2011-08-24T19:02:04Z"
    assert paper.categories == ("math.AT", "math.AP")
    assert paper.primary_category == "math.AT"
    assert paper.title == "Extended Crystal PDE's"
    assert paper.extra["msc_class"] == "55N22, 58J32, 57R20, 20H15"


def test_arxivraw_fields(raw_page):
    odd = next(p for p in raw_page.papers if p.id == "0811.36489")
    assert odd.authors == (
        Author("Daniel M. Kane"),
        Author("Jelani Nelson"),
        Author("David P. Woodruff"),
    )
    assert odd.comment.startswith("added content; modified L_0 algorithm")
    assert "\n" not in odd.comment
    assert odd.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert odd.extra["submitter"] == "Jelani Nelson"
    # Entities decoded, hard wraps undone, indented lines start paragraphs.
    assert "x_i <-- x_i + v come sequentially" in odd.abstract
    assert odd.abstract.split("\n")[1].startswith("Previously, it was known")


def test_arxiv_format_with_old_style_id(fixtures_dir):
    page = parse_oai((fixtures_dir / ARXIV_2015).read_bytes())
    assert page.resumption_token is None and page.error is None
    first, old = page.papers
    assert old.id == "hep-th/9504118"
    assert (old.version, old.published, old.updated) == (1, "1995-04-24", "1995-04-24")
    assert old.authors == (Author("M. Requardt"),)
    assert old.categories == ("hep-th",)
    assert old.extra["report_no"] == "GOET-TP 101/95"
    assert '"strength" of the bonds' in old.abstract
    assert first.id == "1412.8544"
    assert first.authors == (
        Author("Sander Uijlen", ("Radboud Universiteit",)),
        Author("Bas Westerbaan", ("Radboud Universiteit",)),
    )
    assert first.doi == "10.4204/EPTCS.172.11"
    assert first.journal_ref == "EPTCS 172, 2014, pp. 154-164"
    assert first.comment == "In Proceedings QPL 2014, arXiv:1412.8102"
    assert first.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert first.extra["proxy"] == "EPTCS"


def test_arxiv_format_updated_record(fixtures_dir):
    page = parse_oai(
        (fixtures_dir / "oai2018_getrecord_arXiv_1401.2122_multi_setspec.xml").read_bytes()
    )
    (paper,) = page.papers
    assert paper.categories == ("math.AP", "hep-th", "math-ph", "math.DG", "math.MP", "nlin.SI")
    assert (paper.published, paper.updated) == ("2014-01-09", "2017-10-23")
    # The arXiv format has no version numbers: <updated> means "at least v2".
    assert paper.version == 2 and paper.extra["version_exact"] is False
    assert paper.versions == (Version(1, "2014-01-09"),)


@pytest.mark.parametrize(
    ("name", "count", "token", "size"),
    [
        ("oai2016_listrecords_arXiv_set_cs_from2015-01-16_until2015-01-18.xml", 46, None, None),
        ("oai2017_listrecords_arXiv_set_physics-hep-ex_from2017-12-14.xml", 3, None, None),
        ("oai2018_getrecord_arXiv_1412.8544.xml", 1, None, None),
        ("oai2024_listrecords_oai_dc_set_cs_resumptiontoken.xml", 5, "6960524|1001", 1162),
        ("oai2018_identify.xml", 0, None, None),
        ("oai2018_listsets.xml", 0, None, None),
    ],
)
def test_page_counts(fixtures_dir, name, count, token, size):
    body = (fixtures_dir / name).read_bytes()
    page = parse_oai(body)
    assert len(page.papers) == count == body.count(b"<record>")
    assert (page.resumption_token, page.complete_list_size) == (token, size)
    assert page.error is None


def test_oai_dc(fixtures_dir):
    page = parse_oai(
        (fixtures_dir / "oai2024_listrecords_oai_dc_set_cs_resumptiontoken.xml").read_bytes()
    )
    first = page.papers[0]
    assert first.id == "1303.2033"
    assert first.title == "Extended Fourier analysis of signals"
    assert first.authors == (Author("Vilnis Liepins"),)
    assert first.categories == ("cs.DS", "cs.IT", "math.NA")
    assert first.comment == "32 pages, 9 figures"
    assert first.abstract.startswith("This summary of the doctoral thesis")
    assert (first.published, first.updated) == ("2013-03-08", "2024-01-23")
    assert [a.name for a in page.papers[1].authors][:2] == ["Chuankun Li", "Shuai Li"]


def test_no_records_match_is_an_empty_harvest(fixtures_dir):
    page = parse_oai(
        (fixtures_dir / "oai2016_error_noRecordsMatch_set_physics-hep-lat.xml").read_bytes()
    )
    assert page.papers == [] and page.resumption_token is None
    assert page.error[0] == "noRecordsMatch"
    assert page.error[1].startswith("No records match")
    assert page.no_records and not page.failed


def test_real_errors_fail(fixtures_dir):
    body = (fixtures_dir / "oai2016_error_noRecordsMatch_set_physics-hep-lat.xml").read_bytes()
    page = parse_oai(body.replace(b"noRecordsMatch", b"badResumptionToken"))
    assert page.failed and not page.no_records


def test_deleted_records_are_skipped(fixtures_dir):
    body = (fixtures_dir / ARXIV_2015).read_bytes()
    body = body.replace(b"<header>", b'<header status="deleted">', 1)
    page = parse_oai(body)
    assert [p.id for p in page.papers] == ["hep-th/9504118"]
    assert page.deleted == ["1412.8544"]


def test_empty_resumption_token_means_done(fixtures_dir):
    body = (fixtures_dir / "oai2024_listrecords_oai_dc_set_cs_resumptiontoken.xml").read_bytes()
    body = re.sub(rb"(<resumptionToken[^>]*>)[^<]*", rb"\1", body)
    page = parse_oai(body)
    assert page.resumption_token is None and page.complete_list_size == 1162


def test_not_xml_raises():
    with pytest.raises(ET.ParseError):
        parse_oai(b"<html><body>\n<h1>Retry after 10 seconds</h1>\n")


def test_the_page_after_flow_control_parses(fixtures_dir):
    nock = json.loads(
        (fixtures_dir / "raw_wrappers/oai2018_listrecords_503_then_200.nock.json").read_text()
    )
    first, second = nock
    assert (first["status"], second["status"]) == (503, 200)
    assert [p.id for p in parse_oai(second["response"].encode()).papers] == [
        "1412.8544",
        "hep-th/9504118",
    ]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Mon, 2 Apr 2007 19:18:42 GMT", "2007-04-02T19:18:42Z"),
        ("Sat, 22 Nov 2008 16:22:20 GMT", "2008-11-22T16:22:20Z"),
        ("Thu, 28 Nov 2024 00:00:00 -0500", "2024-11-28T05:00:00Z"),
        ("garbage", None),
        ("", None),
        (None, None),
    ],
)
def test_rfc2822_to_iso(text, iso):
    assert rfc2822_to_iso(text) == iso


def test_rfc2822_fast_path_covers_arxiv_dates(monkeypatch):
    """arXiv's own "Mon, 2 Apr 2007 19:18:42 GMT" never needs the slow email parser."""
    import papermirror.arxiv.oai

    def slow(_):
        raise AssertionError("slow path taken")

    monkeypatch.setattr(papermirror.arxiv.oai, "parsedate_to_datetime", slow)
    for month in ("Jan", "May", "Sep", "Dec"):
        assert rfc2822_to_iso(f"Mon, 2 {month} 2007 19:18:42 GMT").startswith("2007-")
    assert rfc2822_to_iso("Mon, 2 Apr 2007 19:18:42 GMT") == "2007-04-02T19:18:42Z"


def test_clean_abstract():
    text = "  First line\nwrapped here.\n  Second paragraph\nalso wrapped.\n"
    assert clean_abstract(text) == "First line wrapped here.\nSecond paragraph also wrapped."
    assert clean_abstract(None) == ""
