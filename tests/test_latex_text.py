"""TeX in arXiv metadata as Unicode, math intact: real strings from the 2024-11-28 feed.

Each case names a paper of the recorded feed, a field, and a piece of that field
as arXiv sent it (checked to be there) with what readers must see instead.
"""

from __future__ import annotations

import pytest

from papermirror.arxiv.bibtex import bibtex, cite_key
from papermirror.arxiv.feeds import parse_feed
from papermirror.arxiv.latex_text import author_name, split_math, to_unicode
from papermirror.records import Author, Paper
from tests.replay import load_fixture

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"

# (paper id, field, as arXiv wrote it, as readers see it)
REAL = [
    ("2411.16302", "title", r"Schr\"odinger Field", "Schrödinger Field"),
    (
        "2411.18468",
        "title",
        r"Parole de pr\'esidents (1958-2022)",
        "Parole de présidents (1958-2022)",
    ),
    (
        "2411.18468",
        "abstract",
        r"huit pr\'esidents se sont succ\'ed\'e \`a la t\^ete",
        "huit présidents se sont succédé à la tête",
    ),
    ("2411.18468", "abstract", "discours -- soit", "discours – soit"),
    ("2411.18570", "abstract", r"a L\'evy flight", "a Lévy flight"),
    ("2301.08540", "title", r"for L\'evy operators", "for Lévy operators"),
    ("2411.17797", "title", r"Informa\c{c}\~ao de Fisher", "Informação de Fisher"),
    ("2411.17797", "title", r"Cram\'er-Rao", "Cramér-Rao"),
    ("2411.18380", "title", r"Personalised -- Mapping", "Personalised – Mapping"),
    ("2411.18380", "title", r"Attributes \& Preferences", "Attributes & Preferences"),
    ("2411.17712", "abstract", r"less than 50\% CPU", "less than 50% CPU"),
    ("2411.17796", "abstract", "we dub ``iterative", "we dub “iterative"),
    ("2411.17703", "abstract", "Artemis~1 mission", "Artemis 1 mission"),
    ("2411.17898", "abstract", r"a \emph{finite} number", "a finite number"),
    (
        "2411.18009",
        "abstract",
        r"at \url{https://github.com/ch9397/FixedWing-MonoPPO}",
        "at https://github.com/ch9397/FixedWing-MonoPPO",
    ),
    # A macro the authors defined stays as written (as on arXiv), not dropped from the sentence.
    ("2411.18073", "abstract", r"since \DuMPOnline, which", r"since \DuMPOnline, which"),
    # Math stays byte for byte as written, beside converted text.
    ("2411.18509", "title", r"on $S^1\times S^2$", r"on $S^1\times S^2$"),
    ("2411.17792", "title", "$H^3$Fusion: Helpful", "$H^3$Fusion: Helpful"),
    ("2411.17818", "abstract", r"\textit{A}V$_{3}$Sb$_{5}$", "AV$_{3}$Sb$_{5}$"),
    ("2411.17898", "abstract", r"$h \in \mathcal{H}$", r"$h \in \mathcal{H}$"),
]


@pytest.fixture(scope="module")
def papers() -> dict[str, Paper]:
    return {a.paper.id: a.paper for a in parse_feed(load_fixture(FEED)).items}


@pytest.mark.parametrize(("paper_id", "field", "tex", "text"), REAL)
def test_real_feed_strings(papers, paper_id, field, tex, text):
    whole = getattr(papers[paper_id], field)
    assert tex in whole  # the case is really in the recorded feed
    assert text in to_unicode(whole)
    assert to_unicode(tex).strip() == text


def test_every_paper_of_the_day_keeps_its_math(papers):
    for p in papers.values():
        for field in (p.title, p.abstract):
            math = [s for m, s in split_math(field) if m]
            converted = [s for m, s in split_math(to_unicode(field)) if m]
            assert converted == math, p.id


@pytest.mark.parametrize(
    ("tex", "name"),
    [
        (r"Jos\'e Manuel Penin", "José Manuel Penin"),
        (r"Micha\"el Jousserand", "Michaël Jousserand"),
        (r"Fran\c{c}ois Le Gall", "François Le Gall"),
        (r"S{\o}ren Kierkegaard", "Søren Kierkegaard"),
        (r"Karl {\"O}berg", "Karl Öberg"),
        (r"D. Due\~nas Tonguino", "D. Dueñas Tonguino"),
        ("Jun  Cui", "Jun Cui"),
        ("José Manuel Penin", "José Manuel Penin"),  # already Unicode: unchanged
    ],
)
def test_author_names_keep_their_spaces(tex, name):
    assert author_name(tex) == name


def test_no_accented_name_of_the_day_runs_into_the_next_word(papers):
    import re

    glued = re.compile(r"[À-ÿĀ-ž][A-Z]")  # "JoséManuel": an accented letter, then a capital
    names = [a.name for p in papers.values() for a in p.authors]
    accented = [n for n in names if re.search(r"[À-ÿĀ-ž]", n)]
    assert len(accented) > 80
    assert [n for n in accented if glued.search(n)] == []


def test_penin_from_the_feed(papers):
    """9 of 91 accented names of that day lost a space to the old hand-written table."""
    names = [a.name for a in papers["2411.18592"].authors]
    assert "José Manuel Penin" in names


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a $x$ b", [(False, "a "), (True, "$x$"), (False, " b")]),
        ("$$x$$ and $y$", [(True, "$$x$$"), (False, " and "), (True, "$y$")]),
        (r"\(x\) \[y\]", [(True, r"\(x\)"), (False, " "), (True, r"\[y\]")]),
        (r"costs \$5 and $x$", [(False, r"costs \$5 and "), (True, "$x$")]),
        ("an unclosed $x", [(False, "an unclosed $x")]),
        (r"$a \$ b$", [(True, r"$a \$ b$")]),
        ("", []),
    ],
)
def test_split_math(text, segments):
    assert split_math(text) == segments
    assert "".join(s for _, s in segments) == text


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("~10x faster", "~10x faster"),  # "about", not TeX's tie
        ("R&D, 50% and #1", "R&D, 50% and #1"),  # TeX specials meant literally
        ("a---b", "a—b"),
        ("unbalanced { brace", "unbalanced brace"),
        (r"\unknownmacro{kept text}", r"\unknownmacrokept text"),
        ("", ""),
        (None, ""),
    ],
)
def test_edge_cases(tex, text):
    assert to_unicode(tex) == text


def test_bibtex_in_arxivs_form():
    paper = Paper(
        id="2411.18509",
        version=1,
        title=r"The large $N$ vector model on $S^1\times S^2$",
        authors=(Author("Justin R. David"), Author("Srijan Kumar")),
        categories=("hep-th", "cond-mat.stat-mech"),
    )
    assert bibtex(paper) == (
        "@misc{david2024large,\n"
        "      title={The large $N$ vector model on $S^1\\times S^2$},\n"
        "      author={Justin R. David and Srijan Kumar},\n"
        "      year={2024},\n"
        "      eprint={2411.18509},\n"
        "      archivePrefix={arXiv},\n"
        "      primaryClass={hep-th},\n"
        "      url={https://arxiv.org/abs/2411.18509},\n"
        "}"
    )


def test_bibtex_keys_and_braces():
    old = Paper(id="hep-th/9901001", version=1, title="}{Broken {braces", authors=())
    assert cite_key(old) == "1999broken"
    assert "title={{Broken {braces}}}," in bibtex(old)
    accented = Paper(id="2411.18592", version=1, title="X", authors=(Author("Zoë Ångström"),))
    assert cite_key(accented) == "angstrom2024x"
