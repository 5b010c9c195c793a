"""papermirror.categories: the taxonomy, spec parsing, and matching against a real feed."""

from __future__ import annotations

import bz2
import gzip
import re
import xml.etree.ElementTree as ET

import pytest

from papermirror.arxiv.feeds import parse_feed
from papermirror.categories import (
    SUBJECT_NAMES,
    Spec,
    canonical_category,
    category_name,
    is_archive,
    is_category,
    parse_spec,
)

BIG = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"

# text -> (canonical, feed categories); canonical None means junk.
SPECS = [
    ("cs.AI", "cs.AI", ["cs.AI"]),
    ("CS.ai", "cs.AI", ["cs.AI"]),
    ("cs", "cs", ["cs"]),
    ("CS", "cs", ["cs"]),
    ("cs.AI,cs.CL", "cs.AI,cs.CL", ["cs.AI", "cs.CL"]),
    ("cs.CL,cs.AI", "cs.AI,cs.CL", ["cs.AI", "cs.CL"]),
    ("cs.AI+cs.CL", "cs.AI,cs.CL", ["cs.AI", "cs.CL"]),
    ("cs.AI cs.CL", "cs.AI,cs.CL", ["cs.AI", "cs.CL"]),
    ("cs.AI+cs.LG-cs.CV", "cs.AI,cs.LG-cs.CV", ["cs.AI", "cs.LG"]),
    ("cs.ai+CS.lg-Cs.Cv", "cs.AI,cs.LG-cs.CV", ["cs.AI", "cs.LG"]),
    ("cs.AI,cs.AI", "cs.AI", ["cs.AI"]),
    ("cs,cs.AI", "cs", ["cs"]),
    ("cs-cs.CV", "cs-cs.CV", ["cs"]),
    ("hep-th", "hep-th", ["hep-th"]),
    ("HEP-TH", "hep-th", ["hep-th"]),
    ("quant-ph", "quant-ph", ["quant-ph"]),
    ("gr-qc", "gr-qc", ["gr-qc"]),
    ("math-ph", "math-ph", ["math-ph"]),
    ("nucl-th", "nucl-th", ["nucl-th"]),
    ("math.gt", "math.GT", ["math.GT"]),
    ("astro-ph.co", "astro-ph.CO", ["astro-ph.CO"]),
    ("astro-ph-astro-ph.CO", "astro-ph-astro-ph.CO", ["astro-ph"]),
    ("Q-BIO.nc", "q-bio.NC", ["q-bio.NC"]),
    ("stat.ml", "stat.ML", ["stat.ML"]),
    ("physics.COMP-PH", "physics.comp-ph", ["physics.comp-ph"]),
    ("cond-mat.MES-HALL", "cond-mat.mes-hall", ["cond-mat.mes-hall"]),
    ("  cs.AI  ", "cs.AI", ["cs.AI"]),
    ("", None, None),
    ("foo", None, None),
    ("cs.XX", None, None),
    ("hep", None, None),
    ("astroph", None, None),
    ("cs.AIcs.CL", None, None),
    ("cs.AI,", None, None),
    (",cs.AI", None, None),
    ("-cs.AI", None, None),
    ("cs.AI--cs.CV", None, None),
    ("cs.AI;cs.CL", None, None),
    ("cs.AI/../etc", None, None),
    ("solv-int", None, None),
    ("test", None, None),
    ("cs." * 500, None, None),
]


@pytest.mark.parametrize(("text", "canonical", "feed"), SPECS)
def test_parse_spec(text, canonical, feed):
    spec = parse_spec(text)
    if canonical is None:
        assert spec is None
        return
    assert spec.canonical == canonical
    assert spec.feed_categories == feed
    assert parse_spec(spec.canonical) == spec


MATCHES = [
    ("cs.AI", ["cs.AI"], True),
    ("cs.AI", ["cs.LG", "cs.AI"], True),
    ("cs.AI", ["cs.LG"], False),
    ("cs", ["math.CO", "cs.DM"], True),
    ("cs", ["econ.GN"], False),
    ("cs.AI,cs.CL", ["cs.CL"], True),
    ("cs.AI+cs.LG-cs.CV", ["cs.LG", "stat.ML"], True),
    ("cs.AI+cs.LG-cs.CV", ["cs.CV", "cs.LG"], False),
    ("cs.AI+cs.LG-cs.CV", ["cs.CV"], False),
    ("cs-cs.CV", ["cs.RO", "cs.CV"], False),
    ("astro-ph", ["astro-ph"], True),
    ("astro-ph", ["astro-ph.GA"], True),
    ("astro-ph-astro-ph.CO", ["astro-ph.GA", "astro-ph.CO"], False),
    ("hep-th", ["hep-ph", "hep-th"], True),
    ("hep-th", ["hep-ph"], False),
    ("math", ["math-ph", "math.MP"], True),
    ("math", ["math-ph"], False),
    ("math-ph", ["math.MP"], False),
    ("cs.AI", ["CS.ai"], True),
    ("cs.AI", [], False),
]


@pytest.mark.parametrize(("text", "categories", "expected"), MATCHES)
def test_matches(text, categories, expected):
    assert parse_spec(text).matches(categories) is expected


# (spec, included terms, excluded terms, expected count) on the 1504-item feed.
COUNTS = [
    ("cs.AI", ["cs.AI"], [], 194),
    ("cs", ["cs"], [], 722),
    ("cs.AI,cs.CL", ["cs.AI", "cs.CL"], [], 247),
    ("cs.AI+cs.LG-cs.CV", ["cs.AI", "cs.LG"], ["cs.CV"], 245),
    ("CS.ai+Stat.ml", ["cs.AI", "stat.ML"], [], 220),
    ("cs-cs.LG", ["cs"], ["cs.LG"], 504),
    ("hep-th", ["hep-th"], [], 72),
    ("astro-ph-astro-ph.CO", ["astro-ph"], ["astro-ph.CO"], 105),
    ("cond-mat.mes-hall", ["cond-mat.mes-hall"], [], 37),
    ("physics.comp-ph", ["physics.comp-ph"], [], 20),
    ("q-bio.NC", ["q-bio.NC"], [], 6),
    ("math-math.MP", ["math"], ["math.MP"], 289),
    ("quant-ph+gr-qc", ["quant-ph", "gr-qc"], [], 147),
    ("eess,econ", ["eess", "econ"], [], 135),
]


@pytest.fixture(scope="module")
def big_raw(fixtures_dir):
    body = bz2.decompress((fixtures_dir / BIG).read_bytes())
    return parse_feed(body), ET.fromstring(body).find("channel").findall("item")


def _covers(term: str, category: str) -> bool:
    return category == term or category.startswith(term + ".")


@pytest.mark.parametrize(("text", "include", "exclude", "count"), COUNTS)
def test_spec_selects_the_same_items_as_plain_string_logic(big_raw, text, include, exclude, count):
    feed, items = big_raw
    expected = set()
    for item in items:
        cats = [c.text for c in item.findall("category")]
        hit = any(_covers(t, c) for t in include for c in cats)
        if hit and not any(_covers(t, c) for t in exclude for c in cats):
            expected.add(item.findtext("guid").rsplit(":", 1)[1].rsplit("v", 1)[0])
    spec = parse_spec(text)
    got = {a.paper.id for a in feed.items if spec.matches(a.paper.categories)}
    assert got == expected
    assert len(got) == count


def _fixture_categories(fixtures_dir) -> set[str]:
    found = set()
    for path in fixtures_dir.iterdir():
        if path.suffix == ".gz":
            text = gzip.decompress(path.read_bytes()).decode()
        elif path.suffix == ".bz2":
            text = bz2.decompress(path.read_bytes()).decode()
        elif path.suffix in (".xml", ".html"):
            text = path.read_text()
        else:
            continue
        for listed in re.findall(r"<categories>(.*?)</categories>", text):
            found.update(listed.split())
        found.update(re.findall(r"<category>(.*?)</category>", text))
        found.update(re.findall(r"<category term=['\"]([^'\"]+)['\"]", text))
    return found


def test_taxonomy_knows_every_category_in_the_fixtures(fixtures_dir):
    seen = _fixture_categories(fixtures_dir)
    assert len(seen) > 140
    unknown = {c for c in seen if not is_category(c) or canonical_category(c) != c}
    assert unknown == set()


@pytest.mark.parametrize(
    ("name", "canonical", "category", "archive"),
    [
        ("cs.AI", "cs.AI", True, False),
        ("cs.ai", "cs.AI", True, False),
        ("cs", "cs", False, True),
        ("hep-th", "hep-th", True, True),
        ("astro-ph", "astro-ph", True, True),
        ("cond-mat.mes-hall", "cond-mat.mes-hall", True, False),
        ("solv-int", "solv-int", True, False),
        ("q-fin.ST", "q-fin.ST", True, False),
        ("eess.SY", "eess.SY", True, False),
        ("astroph", None, False, False),
        ("cs.", None, False, False),
    ],
)
def test_category_names(name, canonical, category, archive):
    assert canonical_category(name) == canonical
    assert is_category(name) is category
    assert is_archive(name) is archive


def test_human_names():
    assert category_name("cs.AI") == "Artificial Intelligence"
    assert category_name("hep-th") == "High Energy Physics - Theory"
    assert category_name("cs") == "Computer Science"
    assert category_name("nope") is None
    # The oai_dc fixture's dc:subject values.
    assert SUBJECT_NAMES["Computer Science - Data Structures and Algorithms"] == "cs.DS"
    assert SUBJECT_NAMES["Mathematics - Numerical Analysis"] == "math.NA"
    assert SUBJECT_NAMES["Quantum Physics"] == "quant-ph"


def test_spec_is_hashable_and_comparable():
    assert parse_spec("cs.CL,cs.AI") == parse_spec("cs.AI+cs.CL")
    assert len({parse_spec("cs.AI"), parse_spec("CS.ai")}) == 1
    assert Spec(("cs.AI",)).matches(["cs.AI"])
