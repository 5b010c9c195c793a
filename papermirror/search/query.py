"""The search box's query language, parsed into a small engine-neutral tree.

What people already know from arXiv's API and from web search engines:

* words, all required: ``diffusion transformer``;
* ``"exact phrase"``;
* ``-excluded`` words, phrases and fields (``-cat:cs.CV``);
* ``OR`` between two terms: ``llm OR "language model"`` (``AND`` is accepted and implied);
* fields ``ti:``, ``au:``, ``abs:``, ``cat:``, ``id:`` (and ``all:``), each taking a word or a
  quoted phrase: ``au:"Hinton, G"``; in ``au:`` an underscore joins names (``au:del_maestro``).

The parse is pure and total: any text either gives a :class:`Query` or raises
:class:`QueryError` with a message meant for readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from papermirror.categories import canonical_category
from papermirror.ids import parse_id

MAX_QUERY_LENGTH = 500  # characters
MAX_TERMS = 32  # clauses, excluded ones included
MAX_PHRASES = 5  # phrases read positions: 8 common ones took 174 ms at 200k papers here
FIELDS = {"ti": "title", "au": "author", "abs": "abstract", "cat": "category", "id": "id"}
# arXiv's API also names these; they search everywhere, like a bare word.
ANY_FIELD = {"all", "any"}

_TOKEN = re.compile(
    r"""
    (?P<space>[\s()]+)
  | (?P<neg>-(?=[^\s-]))?
    (?:(?P<field>[A-Za-z]{2,3}):)?
    (?:"(?P<phrase>[^"]*)(?P<close>"?)|(?P<word>[^\s"()]+))?
    """,
    re.VERBOSE,
)


class QueryError(ValueError):
    """The query cannot be understood; the message says why, in plain words."""


@dataclass(frozen=True)
class Clause:
    """One searched thing: a word or phrase, in one field or everywhere (``field`` None)."""

    text: str
    field: str | None = None
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """Required groups (each an OR of clauses) and excluded clauses."""

    groups: tuple[tuple[Clause, ...], ...]
    excluded: tuple[Clause, ...] = ()

    @property
    def positive(self) -> list[Clause]:
        """Every clause that adds matches (for highlighting)."""
        return [c for g in self.groups for c in g]

    def author_only(self) -> str | None:
        """The text when the query is nothing but a plain name of 2 to 4 words, else None."""
        if self.excluded or len(self.groups) < 2 or len(self.groups) > 4:
            return None
        words = []
        for group in self.groups:
            if len(group) != 1 or group[0].field or group[0].phrase:
                return None
            words.append(group[0].text)
        if not all(re.fullmatch(r"[^\W\d_][\w.'’-]*", w) for w in words):
            return None
        return " ".join(words)


def parse(text: str) -> Query:
    """Parse the box's text into a :class:`Query`, or raise :class:`QueryError`."""
    text = (text or "").strip()
    if not text:
        raise QueryError("Type some words to search for.")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"The query is too long: keep it under {MAX_QUERY_LENGTH} characters.")
    if "\x00" in text:
        raise QueryError("The query contains a character that cannot be searched.")
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    pending_or = False
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:  # a lone '-' or '"'-less oddity: skip one character
            pos += 1
            continue
        pos = m.end()
        if m.group("space"):
            continue
        word, phrase = m.group("word"), m.group("phrase")
        field = m.group("field")
        negated = bool(m.group("neg"))
        if field and field.lower() not in FIELDS and field.lower() not in ANY_FIELD:
            # Not a field we know: read "foo:bar" as plain text (a phrase keeps its quotes' sense).
            if phrase is None:
                word = f"{field}:{word or ''}"
            field = None
        if phrase is not None and not m.group("close"):
            raise QueryError('A quotation mark is not closed: end the phrase with another ".')
        if word is None and phrase is None:
            if field:
                raise QueryError(
                    'A field such as ti: or au: needs a word or a "phrase" right after it.'
                )
            continue
        if word in ("OR", "|") and not field and not negated and phrase is None:
            if not groups or pending_or:
                raise QueryError("OR needs a word on each side, as in: graph OR network.")
            pending_or = True
            continue
        if word == "AND" and not field and not negated and phrase is None:
            continue
        clause = _clause(field, word, phrase, negated)
        if clause is None:
            continue
        if negated:
            if pending_or:
                raise QueryError("OR cannot join an excluded term; put the exclusion on its own.")
            excluded.append(clause)
        elif pending_or:
            groups[-1].append(clause)
            pending_or = False
        else:
            groups.append([clause])
        if sum(map(len, groups)) + len(excluded) > MAX_TERMS:
            raise QueryError(f"The query has too many terms: at most {MAX_TERMS}.")
        phrases = sum(c.phrase for g in groups for c in g) + sum(c.phrase for c in excluded)
        if phrases > MAX_PHRASES:
            raise QueryError(f"The query has too many phrases: at most {MAX_PHRASES}.")
    if pending_or:
        raise QueryError("OR needs a word on each side, as in: graph OR network.")
    if not groups:
        if excluded:
            raise QueryError("Say what to look for, not only what to leave out.")
        raise QueryError("Type some words to search for.")
    return Query(tuple(tuple(g) for g in groups), tuple(excluded))


def _clause(field: str | None, word: str | None, phrase: str | None, negated: bool):
    name = FIELDS.get(field.lower()) if field else None
    value = " ".join((phrase if phrase is not None else word).split())
    if name == "author":
        value = " ".join(value.replace("_", " ").split())
    if not value.strip(" -'\"."):
        if phrase is not None:
            raise QueryError('An empty phrase "" searches for nothing: put words inside it.')
        return None
    if name == "category":
        canonical = canonical_category(value)
        if canonical is None:
            raise QueryError("cat: needs an arXiv category (such as cs.AI or math).")
        value = canonical
    elif name == "id":
        ref = parse_id(value)
        if ref is None:
            raise QueryError("id: needs an arXiv identifier (such as 2104.12255).")
        value = ref.id
    return Clause(value, name, phrase is not None and name not in ("category", "id"), negated)


def parse_day(text: str) -> str:
    """A YYYY-MM-DD date, or QueryError."""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise QueryError("A date is not a date: write it YYYY-MM-DD.") from None
