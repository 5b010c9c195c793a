"""Ids and author lists as arXiv writes them in feeds, OAI-PMH records and the snapshot.

Pure text functions, shared by every format parser here: :func:`paper_ref`
reads an id behind arXiv's prefixes, :func:`split_authors` splits a byline into
:class:`Author` records (affiliation legends and all), :func:`tex_to_unicode`
turns TeX accents and escapes into Unicode.
"""

from __future__ import annotations

import re

from papermirror.arxiv import latex_text
from papermirror.ids import PaperRef, parse_id
from papermirror.records import Author

# Prefixes arXiv puts before ids in guids, descriptions and links.
_ID_PREFIX = re.compile(
    r"\s*(?:oai:arXiv\.org:|arXiv:|https?://(?:export\.)?arxiv\.org/abs/)", re.I
)
_SEPARATORS = re.compile(r"(,)")
_SEPARATORS_AND = re.compile(r"(,|\s+and\s+)")
_REFS = re.compile(r"\d+(?:\s*(?:,|and|&)\s*\d+)*")
_LEGEND = re.compile(r"\((\d+)\)")
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def paper_ref(text: str) -> PaperRef | None:
    """The canonical :class:`PaperRef` of an id as feeds and OAI write it, or None.

    Accepts a bare id or one behind ``oai:arXiv.org:``, ``arXiv:`` or an abs URL
    (``oai:arXiv.org:math.GT/0309136v2`` -> ``math/0309136`` v2).
    """
    m = _ID_PREFIX.match(text)
    return parse_id(text[m.end() :] if m else text)


def split_authors(text: str, and_separates: bool = False) -> tuple[Author, ...]:
    """Split arXiv's author string into authors, with any parenthesised affiliations.

    Commas inside parentheses do not split (``Ann Lee (MIT, CSAIL), Bo Li``).
    ``and_separates`` also splits on " and ", as in OAI ``arXivRaw`` strings;
    numbered affiliations (``A (1), B (2) ((1) MIT, (2) CERN)``) are resolved.
    TeX accents in names become Unicode (``R\\'emy`` -> ``Rémy``).
    """
    text = " ".join(text.split())
    if not text:
        return ()
    if "(" not in text and not and_separates:
        pieces = text.split(",")
        names = [n for p in pieces if (n := p.strip())]
        # The common case, kept cheap: plain names, no affiliation and no "Jr.".
        if _SUFFIXES.isdisjoint(n.lower() for n in names):
            return tuple(Author(tex_to_unicode(n) if "\\" in n else n) for n in names)
    else:
        pieces = _top_level_split(text, _SEPARATORS_AND if and_separates else _SEPARATORS)
    entries: list[tuple[str, list[str], list[str]]] = []
    legend: dict[str, str] = {}
    for piece in pieces:
        name, groups = _name_and_groups(piece) if "(" in piece else (piece.strip(), [])
        refs, affiliations = [], []
        for group in groups:
            group = group.strip()
            if _REFS.fullmatch(group):
                refs += re.findall(r"\d+", group)
            elif group.startswith("("):
                parts = _LEGEND.split(group)
                legend.update(zip(parts[1::2], (p.strip(" ,;") for p in parts[2::2]), strict=True))
            elif group:
                affiliations.append(group)
        if not name:
            continue
        if name.lower() in _SUFFIXES and entries:
            entries[-1] = (f"{entries[-1][0]} {name}", *entries[-1][1:])
            continue
        entries.append((name, refs, affiliations))
    return tuple(
        Author(
            tex_to_unicode(name) if "\\" in name else name,
            tuple(affs + [legend[r] for r in refs if legend.get(r)]),
        )
        for name, refs, affs in entries
    )


def tex_to_unicode(text: str) -> str:
    """TeX accents and special letters (``\\"o``, ``{\\'e}``, ``\\ss``) as Unicode, spaces kept.

    pylatexenc does the work (:mod:`papermirror.arxiv.latex_text`); the hand-written
    table it replaces swallowed the space after an accented letter ("JoséManuel").
    """
    return latex_text.author_name(text)


def _top_level_split(text: str, separators: re.Pattern) -> list[str]:
    # Split everywhere, then glue back the separators that sat inside parentheses:
    # str-level work, much faster than walking the text in Python.
    parts = separators.split(text)
    pieces, current = [], [parts[0]]
    depth = max(parts[0].count("(") - parts[0].count(")"), 0)
    for i in range(1, len(parts), 2):
        separator, part = parts[i], parts[i + 1]
        if depth > 0:
            current.append(separator)
        else:
            pieces.append("".join(current))
            current = []
        current.append(part)
        depth = max(depth + part.count("(") - part.count(")"), 0)
    pieces.append("".join(current))
    return pieces


def _name_and_groups(piece: str) -> tuple[str, list[str]]:
    name, groups, depth, start = [], [], 0, 0
    for i, ch in enumerate(piece):
        if ch == "(":
            if depth == 0:
                name.append(piece[start:i])
                start = i + 1
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                groups.append(piece[start:i])
                start = i + 1
    # An unclosed group (a legend cut short by arXiv) still is a group.
    (name if depth == 0 else groups).append(piece[start:])
    return " ".join("".join(name).split()), groups
