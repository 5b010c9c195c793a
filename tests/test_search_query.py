"""The search query parser and the highlighter: pure functions, no index, no Redis."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from papermirror.records import Author, Paper
from papermirror.search.analysis import author_matches
from papermirror.search.highlight import highlight, query_terms, snippet
from papermirror.search.query import MAX_QUERY_LENGTH, Clause, QueryError, parse
from papermirror.search.tantivy_schema import paper_day

PARSES = [
    ("diffusion transformer", [["diffusion"], ["transformer"]], []),
    ('"exact phrase" -bad', [['"exact phrase"']], ["bad"]),
    ("a OR b c", [["a", "b"], ["c"]], []),
    ("a | b", [["a", "b"]], []),
    ("a AND b", [["a"], ["b"]], []),
    ('au:"Hinton, G" ti:attention', [['author:"Hinton, G"'], ["title:attention"]], []),
    ("cat:cs.ai -cat:CS.CV x", [["category:cs.AI"], ["x"]], ["category:cs.CV"]),
    ("id:2104.12255v1", [["id:2104.12255"]], []),
    ("abs:graph", [["abstract:graph"]], []),
    ("all:graph", [["graph"]], []),
    ("au:del_maestro", [["author:del maestro"]], []),
    ("foo:bar", [["foo:bar"]], []),
    ("(x)", [["x"]], []),
    ('a -"b c"', [["a"]], ['"b c"']),
    ("Schrödinger équation", [["Schrödinger"], ["équation"]], []),
]


def _show(c: Clause) -> str:
    text = f'"{c.text}"' if c.phrase else c.text
    return f"{c.field}:{text}" if c.field else text


@pytest.mark.parametrize(("text", "groups", "excluded"), PARSES, ids=[p[0] for p in PARSES])
def test_parse(text, groups, excluded):
    q = parse(text)
    assert [[_show(c) for c in g] for g in q.groups] == groups
    assert [_show(c) for c in q.excluded] == excluded


ERRORS = [
    ("", "Type some words"),
    ("   ", "Type some words"),
    ("OR a", "OR needs a word"),
    ("a OR", "OR needs a word"),
    ("a OR OR b", "OR needs a word"),
    ('"unclosed', "quotation mark is not closed"),
    ("-only -these", "not only what to leave out"),
    ("ti:", "needs a word"),
    ('""', "empty phrase"),
    ("cat:nonsense", "needs an arXiv category"),
    ("id:abc", "needs an arXiv identifier"),
    ("x" * (MAX_QUERY_LENGTH + 1), "too long"),
    (" ".join(f"w{i}" for i in range(40)), "too many terms"),
    (" ".join(f'"a{i} b"' for i in range(6)), "too many phrases"),
    ("a\x00b", "cannot be searched"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[e[0][:30] for e in ERRORS])
def test_parse_errors_are_plain_words(text, message):
    with pytest.raises(QueryError, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [("Geoffrey Hinton", "Geoffrey Hinton"), ("Hinton", None), ("neural -x", None)],
)
def test_author_only(text, name):
    assert parse(text).author_only() == name


AUTHOR_MATCHES = [
    # (stored author, queried name, found?): surname + initials in order, accents stripped,
    # either order, with or without a comma (as arXiv's au: reads names)
    ("Geoffrey E. Hinton", "Hinton, G", True),
    ("Geoffrey E. Hinton", "Hinton, E", True),  # a middle initial finds him too
    ("Geoffrey E. Hinton", "Hinton, G E", True),
    ("Geoffrey E. Hinton", "Hinton, G. E.", True),
    ("Geoffrey E. Hinton", "G. E. Hinton", True),
    ("Geoffrey E. Hinton", "Hinton G", True),
    ("Geoffrey E. Hinton", "Hinton, E G", False),  # initials out of order
    ("Geoffrey E. Hinton", "Hinton, J", False),
    ("Geoffrey E. Hinton", "Hinton, G J", False),
    ("Geoffrey E. Hinton", "Geoffrey Hinton", True),
    ("Geoffrey E. Hinton", "Hinton Geoffrey", True),
    ("Geoffrey Hinton", "Hinton, G E", False),  # he has no E
    ("G. E. Hinton", "Hinton, Geoffrey", True),
    ("John Hinton", "Hinton, G", False),
    ("Erwin Schrödinger", "schrodinger, e", True),
    ("Erwin Schrödinger", "Schrödinger, E", True),
    ("Jarosław Żygierewicz", "Zygierewicz Jaroslaw", True),
    ("Jarosław Żygierewicz", "Żygierewicz, J", True),
    ("Martin Luther King Jr.", "King, M", True),
    ("Martin Luther King Jr.", "King, L", True),
    ("Martin Luther King Jr.", "King, M L", True),
    ("Martin Luther King Jr.", "King, M L Jr", True),
    ("Jean-Pierre Serre", "Serre, J P", True),
    ("Jean-Pierre Serre", "Serre, P", True),
    ("Adrian Del Maestro", "Del Maestro, A", True),
    ("Adrian Del Maestro", "Maestro, A", True),
    ("Adrian Del Maestro", "Del Maestro, S", False),
    ("A. B. C. Dee", "Dee, A B C", True),
    ("A. B. C. Dee", "Dee, A C", True),
    ("A. B. C. Dee", "Dee, C A", False),
]


@pytest.mark.parametrize(
    ("stored", "queried", "found"), AUTHOR_MATCHES, ids=[f"{s}|{q}" for s, q, _ in AUTHOR_MATCHES]
)
def test_author_initials(stored, queried, found):
    assert author_matches(stored, queried) is found


def test_highlight_marks_stems_escapes_and_skips_math():
    terms = query_terms(parse('learning alpha "neural nets"'))
    html = highlight("Learned <b>x</b> & $\\alpha$ alpha", terms)
    assert html == "<mark>Learned</mark> &lt;b&gt;x&lt;/b&gt; &amp; $\\alpha$ <mark>alpha</mark>"


def test_snippet_is_around_the_match_and_never_cuts_math():
    text = "Intro " + "filler " * 60 + "$a + b learning$ we learning here " + "tail " * 60
    html = snippet(text, query_terms(parse("learning")))
    assert html.startswith("… ") and html.endswith(" …")
    assert "$a + b learning$" in html  # math kept whole and unmarked
    assert "<mark>learning</mark> here" in html
    assert html.count("$") % 2 == 0


def _no_foreign_markup(html: str) -> bool:
    return not re.search(r"<(?!/?mark>)", html)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_parser_is_total(text):
    try:
        q = parse(text)
    except QueryError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert q.groups


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=50))
def test_highlight_never_lets_markup_through(text, query):
    try:
        terms = query_terms(parse(query))
    except QueryError:
        terms = frozenset()
    assert _no_foreign_markup(highlight(text, terms))
    assert _no_foreign_markup(snippet(text, terms))


def _regex_candidates(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """The candidate words as a regular expression finds them (what highlight did before it
    used str.find): words starting like a term, or, beyond ASCII, with such a letter."""
    heads = sorted({t[: max(1, len(t) - 1)] for t in terms}, key=len, reverse=True)
    like = r"\b(?:" + "|".join(map(re.escape, heads)) + r")\w*"
    if not text.isascii():
        like += r"|\b\w*?[^\W\x00-\x7f]\w*"
    return [m.span() for m in re.finditer(like, text, re.I)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["Learning", "learned", "NEURAL", "nets", "Schrödinger", "a_b", "ﬁ"]),
            st.text(max_size=12),
        ),
        max_size=30,
    ),
    st.text(max_size=40),
)
def test_candidate_words_are_the_regular_expressions(words, query):
    from papermirror.search.highlight import _words

    text = " ".join(words)
    try:
        terms = query_terms(parse(query + " learning neural"))
    except QueryError:
        terms = query_terms(parse("learning neural"))
    assume(len(text.lower()) == len(text))  # else every word is a candidate (a superset)
    # A term may start with a mark the engine counts as a letter and Python's \w does not
    # (Devanagari's "ा"): the expression then matched a word of nothing but that mark.
    assume(all(t[:1].isalnum() for t in terms))
    assert _words(text, terms) == _regex_candidates(text, terms)


def test_pages_get_tex_as_unicode_and_formulas_for_the_renderer():
    terms = query_terms(parse("schrodinger learning"))
    html = highlight('Schr\\"odinger learning with $<b>x_1$ & more', terms, tex=True)
    assert "<mark>Schrödinger</mark> <mark>learning</mark>" in html
    assert '<span class="math inline">$&lt;b&gt;x_1$</span>' in html
    assert _no_foreign_markup(html.replace('<span class="math inline">', "").replace("</span>", ""))


DAYS = [
    # (id, published, updated, announced) -> the day search files the paper under
    (("2411.17705", "2024-11-25T18:00:00Z", "2024-11-27T10:00:00Z", 20241128), 20241125),
    (("2411.17705", None, None, 20241128), 20241128),  # known from a feed that announced it
    (("2411.17705", None, None, 0), 20241101),  # a replacement seen in a feed: the id's month
    (("2411.17705", None, "2024-11-27T10:00:00Z", 0), 20241127),
    (("hep-th/9901001", None, None, 0), 19990101),
    (("math.GT/0309136", None, None, 0), 20030901),
    (("0704.0001", None, None, 0), 20070401),
    (("2413.00001", None, None, 0), 0),  # no month 13: unknown
]


@pytest.mark.parametrize(("args", "day"), DAYS, ids=[str(a) for a, _ in DAYS])
def test_paper_day(args, day):
    assert paper_day(*args) == day


def test_document_of_a_row_is_the_document_of_its_paper():
    from papermirror import codec
    from papermirror.search.tantivy_schema import document, document_row

    p = Paper(
        id="2411.17705",
        version=2,
        title="Title",
        authors=(Author("Geoffrey E. Hinton", ("Toronto",)), Author("Ada Lovelace")),
        abstract="Abstract $x$.",
        categories=("cs.LG", "stat.ML"),
        comment="10 pages",
        doi="10.1/x",
    )
    row = json.loads(codec.serialize(p))
    assert document_row(row, 20241128).to_dict() == document(p, 20241128).to_dict()
