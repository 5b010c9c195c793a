"""Parsed queries and filters as tantivy queries (built directly: tantivy's own parser never
sees reader text, so its syntax errors cannot reach anyone)."""

from __future__ import annotations

from collections.abc import Iterable

import tantivy

from papermirror.categories import canonical_category
from papermirror.ids import parse_id
from papermirror.search import Filters
from papermirror.search.analysis import name_tokens, query_author_keys, text_tokens
from papermirror.search.query import Clause, Query, QueryError
from papermirror.search.tantivy_schema import PHRASE_FIELDS, SCHEMA, TEXT_FIELDS, day_number

AUTHOR_BOOST = 8.0  # a query that is only a name ranks that author's papers first


def term(field: str, value) -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, field, value)


def _in_field(field: str, text: str, phrase: bool) -> tantivy.Query | None:
    tokens = name_tokens(text) if field == "authors" else text_tokens(text)
    if not tokens:
        return None
    if len(tokens) == 1:
        return term(field, tokens[0])
    if field in PHRASE_FIELDS:
        return tantivy.Query.phrase_query(SCHEMA, field, list(tokens))
    # Names in any order, and the short comments field: every word, anywhere in it.
    return _all(term(field, t) for t in tokens)


def _all(queries: Iterable[tantivy.Query]) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def _any(queries: Iterable[tantivy.Query]) -> tantivy.Query | None:
    qs = [q for q in queries if q is not None]
    if not qs:
        return None
    if len(qs) == 1:
        return qs[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in qs])


def _author(text: str) -> tantivy.Query | None:
    """A name in any order; initials must belong to the same author as the surname."""
    words = name_tokens(text)
    full = [w for w in words if len(w) > 1]
    if not words:
        return None
    parts = [q for w in full if (q := _in_field("authors", w, False)) is not None]
    if len(full) < len(words):  # initials: "Hinton, G" needs a Hinton with a forename G…
        keys = _any(_all(term("akey", k) for k in group) for group in query_author_keys(text))
        if keys is not None:
            parts.append(keys)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else _all(parts)


def _clause(c: Clause) -> tantivy.Query | None:
    if c.field == "title":
        return _in_field("title", c.text, c.phrase)
    if c.field == "abstract":
        return _in_field("abstract", c.text, c.phrase)
    if c.field == "author":
        return _author(c.text)
    if c.field == "category":
        return term("cat", c.text.lower())
    if c.field == "id":
        return term("id", c.text)
    options = []
    for name, weight in TEXT_FIELDS.items():
        if c.phrase and name not in PHRASE_FIELDS:
            continue  # an exact phrase is looked for in titles and abstracts
        q = _in_field(name, c.text, c.phrase)
        if q is not None:
            options.append(tantivy.Query.boost_query(q, weight) if weight != 1.0 else q)
    ref = parse_id(c.text) if not c.phrase and any(ch.isdigit() for ch in c.text) else None
    if ref is not None:
        options.append(tantivy.Query.boost_query(term("id", ref.id), 10.0))
    return _any(options)


def translate(query: Query) -> tantivy.Query:
    """The engine's query for a parsed :class:`Query` (QueryError when nothing is searchable)."""
    clauses = []
    for group in query.groups:
        q = _any(_clause(c) for c in group)
        if q is not None:
            clauses.append((tantivy.Occur.Must, q))
    if not clauses:
        raise QueryError("The query has no words that can be searched: try letters or digits.")
    for c in query.excluded:
        q = _clause(c)
        if q is not None:
            clauses.append((tantivy.Occur.MustNot, q))
    name = query.author_only()
    if name:
        keys = [k for group in query_author_keys(name) for k in group]
        if keys:
            by_author = tantivy.Query.term_set_query(SCHEMA, "akey", keys)
            boosted = tantivy.Query.boost_query(by_author, AUTHOR_BOOST)
            clauses.append((tantivy.Occur.Should, boosted))
    return tantivy.Query.boolean_query(clauses)


def filtered(q: tantivy.Query, f: Filters) -> tantivy.Query:
    clauses = [(tantivy.Occur.Must, q)]
    include = [canonical_category(t) for t in f.include]
    if include:
        clauses.append((tantivy.Occur.Must, _any(term("cat", t.lower()) for t in include if t)))
    for t in f.exclude:
        clauses.append((tantivy.Occur.MustNot, term("cat", t.lower())))
    if f.since or f.until:
        lo = day_number(f.since) if f.since else None
        hi = day_number(f.until) if f.until else None
        clauses.append(
            (
                tantivy.Occur.Must,
                tantivy.Query.range_query(SCHEMA, "date", tantivy.FieldType.Integer, lo, hi),
            )
        )
    if len(clauses) == 1:
        return q
    return tantivy.Query.boolean_query(clauses)
