"""papermirror.arxiv.feeds against real arXiv feeds (RSS 2.0, Atom, old RDF, empty and error)."""

from __future__ import annotations

import bz2
import collections
import re
import xml.etree.ElementTree as ET

import pytest

from papermirror.arxiv.bylines import paper_ref, split_authors, tex_to_unicode
from papermirror.arxiv.feeds import feed_url, parse_feed
from papermirror.ids import PaperRef
from papermirror.records import Author, Version

BIG = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"
RSS2026 = "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml"
ATOM = "atom2026_cs.LG_trimmed3entries_abridged.xml"
RDF = "rss_old_rdf_hep-ex_2018-05-23_abridged3items.xml"
EMPTY = "rss2024_empty_channel_test_archive.xml"
ERROR = "rss2024_error_bad_archive_astroph.xml"
ARXIV_NS = "{http://arxiv.org/schemas/atom}"
DC_NS = "{http://purl.org/dc/elements/1.1/}"


def read(fixtures_dir, name: str) -> bytes:
    """A fixture's bytes, decompressed when it is .bz2."""
    path = fixtures_dir / name
    return bz2.decompress(path.read_bytes()) if name.endswith(".bz2") else path.read_bytes()


@pytest.fixture(scope="module")
def big_bytes(fixtures_dir) -> bytes:
    return read(fixtures_dir, BIG)


@pytest.fixture(scope="module")
def big(big_bytes):
    return parse_feed(big_bytes)


def test_big_feed_counts(big):
    assert big.error is None and not big.empty and big.skipped == 0
    assert big.date == "2024-11-28"
    assert big.format == "rss20"
    assert big.categories_query.startswith("astro-ph+cond-mat+physics+quant-ph+math+cs+")
    assert len(big.items) == 1504
    kinds = collections.Counter(a.announce_type for a in big.items)
    assert kinds == {"new": 926, "replace": 569, "cross": 9}
    assert len({a.paper.id for a in big.items}) == 1504
    assert all(a.version == a.paper.version for a in big.items)
    assert all(a.paper.source == "rss" for a in big.items)


def test_big_feed_matches_raw_xml(big, big_bytes):
    """Every field agrees with the item as ElementTree reads it, byte for byte."""
    items = ET.fromstring(big_bytes).find("channel").findall("item")
    assert len(items) == len(big.items)
    for raw, got in zip(items, big.items, strict=True):
        p = got.paper
        guid = raw.findtext("guid")
        assert guid == f"oai:arXiv.org:{p.id}v{p.version}"
        assert p.versions == (Version(p.version),)
        assert p.title == " ".join(raw.findtext("title").split())
        description = raw.findtext("description")
        assert description.startswith(f"arXiv:{p.id}v{p.version} Announce Type: ")
        assert p.abstract == description.split("Abstract:", 1)[1].strip()
        assert p.categories == tuple(c.text for c in raw.findall("category"))
        assert got.announce_type == raw.findtext(ARXIV_NS + "announce_type")
        assert p.license == raw.findtext(DC_NS + "rights")
        assert p.doi == raw.findtext(ARXIV_NS + "DOI")
        assert p.journal_ref == raw.findtext(ARXIV_NS + "journal_reference")
        assert len(p.authors) == _top_level_names(raw.findtext(DC_NS + "creator"))


def _top_level_names(creator: str) -> int:
    """How many comma-separated names, ignoring commas inside parentheses."""
    depth, names, current = 0, 0, ""
    for ch in creator + ",":
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            names += bool(current.strip())
            current = ""
        else:
            current += ch
    return names


def test_categories_come_primary_first_then_sorted(big, fixtures_dir):
    assert all(list(a.paper.categories[1:]) == sorted(a.paper.categories[1:]) for a in big.items)
    # A cross-list into cs.LG+cs.AI+cs.CL+stat.ML leads with its primary, stat.ME.
    cross = parse_feed(read(fixtures_dir, RSS2026)).items[2]
    assert cross.announce_type == "cross" and cross.paper.primary_category == "stat.ME"


def test_abstracts_keep_angle_brackets_and_ampersands(big):
    """feedparser's sanitiser would turn "$\\frac{1}{3}<s<1$" into a tag; we keep the text."""
    abstracts = "\n".join(a.paper.abstract for a in big.items)
    assert r"$\frac{1}{3}<s<1$" in abstracts
    assert "(H&E) stained" in abstracts
    assert "<s>" not in abstracts and "&amp;" not in abstracts


def test_authors_with_affiliations_and_tex(big):
    by_id = {a.paper.id: a.paper for a in big.items}
    araujo = next(p for p in by_id.values() if p.authors and p.authors[0].name == "Aleteia Araujo")
    assert araujo.authors[0].affiliations == (
        "University of Brasilia Brazil, The University of Melbourne Australia",
    )
    names = {a.name for p in by_id.values() for a in p.authors}
    assert "Benjamin Rémy" in names
    assert not any("\\'" in n for n in names)


def test_2026_feed(fixtures_dir):
    feed = parse_feed(read(fixtures_dir, RSS2026))
    assert (feed.date, feed.categories_query) == ("2026-09-24", "cs.LG+cs.AI+cs.CL+stat.ML")
    got = [(a.paper.id, a.version, a.announce_type) for a in feed.items]
    assert got == [
        ("2609.26811", 1, "new"),
        ("2609.26820", 1, "new"),
        ("2205.06398", 2, "cross"),
        ("2009.13987", 3, "replace"),
    ]
    cross = feed.items[2].paper
    assert cross.categories == ("stat.ME", "stat.AP", "stat.ML")
    assert cross.primary_category == "stat.ME"
    assert cross.doi == "10.1093/bioinformatics/btac431"
    assert cross.authors == (
        Author("Pritam Dey"),
        Author("Zhengwu Zhang"),
        Author("David B. Dunson"),
    )
    assert feed.items[0].paper.abstract.startswith("Local learning trains each layer")
    assert feed.items[0].paper.license == "http://creativecommons.org/licenses/by-nc-sa/4.0/"


def test_atom_feed(fixtures_dir):
    feed = parse_feed(read(fixtures_dir, ATOM))
    # <updated> is 04:00 UTC, i.e. midnight Eastern on the 25th.
    assert (feed.date, feed.categories_query, feed.format) == ("2026-09-25", "cs.LG", "atom10")
    assert [(a.paper.id, a.version, a.announce_type) for a in feed.items] == [
        ("2609.28553", 1, "new"),
        ("2402.10149", 3, "cross"),
        ("2401.08875", 3, "replace"),
    ]
    first = feed.items[0].paper
    assert first.journal_ref.startswith("2026 International Conference on Multimedia")
    assert first.doi == "10.1109/MAPR72750.2026.11685822"
    assert len(first.authors) == 6
    assert feed.items[1].paper.categories == ("hep-ph", "cs.LG", "hep-ex")


def test_empty_channel_is_a_normal_day(fixtures_dir):
    feed = parse_feed(read(fixtures_dir, EMPTY))
    assert feed.empty and feed.error is None and feed.items == []
    assert (feed.date, feed.categories_query) == ("2024-11-28", "test")


def test_feed_error(fixtures_dir):
    feed = parse_feed(read(fixtures_dir, ERROR))
    assert feed.error.startswith("Feed error for query: http://rss.arxiv.org/rss/astroph")
    assert "Bad archive 'astroph'" in feed.error
    assert not feed.empty and feed.items == []
    assert feed.categories_query == "astroph"


def test_unreadable_body_is_an_error():
    feed = parse_feed(b"<html><body>Service Unavailable</body></html>")
    assert feed.error and not feed.empty and feed.items == []


def test_truncated_feed_is_an_error(big_bytes):
    """A cut-off download must not pass for a short day."""
    feed = parse_feed(big_bytes[: len(big_bytes) // 2])
    assert feed.error.startswith("malformed feed")
    assert not feed.empty and 0 < len(feed.items) < 1504


def test_old_rdf_feed(fixtures_dir):
    feed = parse_feed(read(fixtures_dir, RDF))
    assert (feed.date, feed.categories_query, feed.format) == ("2018-05-23", "hep-ex", "rss10")
    got = [(a.paper.id, a.version, a.announce_type, a.paper.categories) for a in feed.items]
    assert got == [
        ("1805.08875", 1, "new", ("hep-ex",)),
        ("1805.09166", 1, "cross", ()),
        ("1805.06430", 2, "replace-cross", ("nucl-th",)),
    ]
    first = feed.items[0].paper
    assert first.title.startswith("Measurement of Transverse Single Spin Asymmetries")
    assert first.title.endswith("Collisions at STAR.")
    assert first.authors == (Author("Christopher Dilks", ("STAR Collaboration",)),)
    assert first.abstract.startswith("In 2015 the first collisions")
    assert r"$2.6<\eta<4$" in first.abstract and "<p>" not in first.abstract
    assert [a.name for a in feed.items[2].paper.authors][-1] == "Hong-Shi Zong"
    assert feed.items[1].paper.extra["listing_category"] == "hep-ex"


@pytest.mark.parametrize(
    ("stated", "day"),
    [
        ("<pubDate>Thu, 28 Nov 2024 00:00:00 -0500</pubDate>", "2024-11-28"),
        ("<pubDate>Thu, 24 Sep 2026 00:00:00 -0400</pubDate>", "2026-09-24"),
        # UTC stamps are read in Eastern time: 03:30 UTC in November is the evening before.
        ("<pubDate>Fri, 29 Nov 2024 03:30:00 +0000</pubDate>", "2024-11-28"),
        ("<pubDate>Fri, 25 Sep 2026 03:30:00 GMT</pubDate>", "2026-09-24"),
        ("<pubDate>Fri, 25 Sep 2026 04:30:00 GMT</pubDate>", "2026-09-25"),
    ],
)
def test_announcement_date_in_eastern_time(fixtures_dir, stated, day):
    body = read(fixtures_dir, EMPTY).decode()
    body = re.sub(r"<lastBuildDate>.*?</lastBuildDate>", "", body)
    body = re.sub(r"<pubDate>.*?</pubDate>", stated, body)
    assert parse_feed(body.encode()).date == day


def test_feed_url():
    assert feed_url("https://rss.arxiv.org/rss/", ["cs.AI", "cs.CL"]) == (
        "https://rss.arxiv.org/rss/cs.AI+cs.CL"
    )
    assert feed_url("https://rss.arxiv.org/atom", ("cs",)) == "https://rss.arxiv.org/atom/cs"


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("oai:arXiv.org:2411.17700v1", PaperRef("2411.17700", 1)),
        ("arXiv:2609.26811v1", PaperRef("2609.26811", 1)),
        ("oai:arXiv.org:math.GT/0309136v2", PaperRef("math/0309136", 2)),
        ("https://arxiv.org/abs/2411.17700", PaperRef("2411.17700", None)),
        ("http://arxiv.org/abs/hep-th/9504118", PaperRef("hep-th/9504118", None)),
        ("hep-th/9504118", PaperRef("hep-th/9504118", None)),
        ("not an id", None),
    ],
)
def test_paper_ref(text, ref):
    assert paper_ref(text) == ref


@pytest.mark.parametrize(
    ("creators", "expected"),
    [
        ("Jun Cui", [("Jun Cui", ())]),
        (
            "Krishna Shende, Kavita Dorai,  Arvind",
            [("Krishna Shende", ()), ("Kavita Dorai", ()), ("Arvind", ())],
        ),
        (
            "Amina Doumane (PLUME, LIP), Samuel Humeau (PLUME, LIP)",
            [("Amina Doumane", ("PLUME, LIP",)), ("Samuel Humeau", ("PLUME, LIP",))],
        ),
        (
            "Knut Zoch (for the ATLAS Collaboration)",
            [("Knut Zoch", ("for the ATLAS Collaboration",))],
        ),
        (
            r"Nathan Szwarcberg (LMA), Micha\"el Jousserand",
            [("Nathan Szwarcberg", ("LMA",)), ("Michaël Jousserand", ())],
        ),
    ],
)
def test_split_feed_creators(creators, expected):
    assert split_authors(creators) == tuple(Author(n, a) for n, a in expected)


def test_split_raw_authors_with_and_and_numbered_affiliations():
    """arXivRaw author strings (from the 2014 OAI page) use " and " and numbered legends."""
    raw = (
        "A. Baldi (1), W. Forman (1) and A. Simionescu (2) ((1) Harvard-Smithsonian Center for\n"
        "  Astrophysics, (2) Max Planck Institute for Extraterrestrial Physics)"
    )
    assert split_authors(raw, and_separates=True) == (
        Author("A. Baldi", ("Harvard-Smithsonian Center for Astrophysics",)),
        Author("W. Forman", ("Harvard-Smithsonian Center for Astrophysics",)),
        Author("A. Simionescu", ("Max Planck Institute for Extraterrestrial Physics",)),
    )
    raw = "Quirino M. Sugon Jr., Carlo B. Fernandez, and Daniel J. McNamara"
    assert [a.name for a in split_authors(raw, and_separates=True)] == [
        "Quirino M. Sugon Jr.",
        "Carlo B. Fernandez",
        "Daniel J. McNamara",
    ]


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"R\'emy", "Rémy"),
        (r"Matti J\"arvinen", "Matti Järvinen"),
        (r"D. Due\~nas Tonguino", "D. Dueñas Tonguino"),
        (r"{\'E}mile", "Émile"),
        (r"\v{S}ime", "Šime"),
        (r"S{\o}ren", "Søren"),
        (r"\'{\i}", "í"),
        ("plain", "plain"),
    ],
)
def test_tex_to_unicode(tex, text):
    assert tex_to_unicode(tex) == text
