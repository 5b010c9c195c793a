"""The embedded search engine: tantivy (the engine Cool Papers runs), through its official bindings.

The index stores only ids: everything shown comes from Redis, so the index
stays small (text is indexed, never stored) and can be rebuilt at any time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import tantivy

from papermirror.categories import canonical_category
from papermirror.ids import parse_id
from papermirror.records import Paper
from papermirror.search import MAX_RESULTS, PAGE_SIZE, Filters, Hit, Hits, SearchUnavailable
from papermirror.search.analysis import (
    NAME_ANALYZER,
    NAMES,
    TEXT,
    TEXT_ANALYZER,
    author_keys,
    name_tokens,
    query_author_keys,
    text_tokens,
)
from papermirror.search.query import Clause, Query, QueryError

# Fields searched by a bare word or phrase, and their weights in BM25's sum.
TEXT_FIELDS = {"title": 3.0, "authors": 1.5, "abstract": 1.0, "extra": 0.5}
PHRASE_FIELDS = ("title", "abstract")
AUTHOR_BOOST = 8.0  # a query that is only a name ranks that author's papers first
RELOAD_EVERY = 0.25  # seconds between checks for a newer commit


def schema() -> tantivy.Schema:
    """The index's fields."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        analyzer = NAME_ANALYZER if name == "authors" else TEXT_ANALYZER
        # Positions (for phrases) only where phrases are looked for: they cost most of the bytes.
        option = "position" if name in PHRASE_FIELDS else "freq"
        sb.add_text_field(name, tokenizer_name=analyzer, index_option=option)
    sb.add_text_field("akey", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("cat", tokenizer_name="raw", index_option="basic")
    # Announcement-free date of v1 as YYYYMMDD: filters and "newest first".
    sb.add_integer_field("date", indexed=False, fast=True)
    return sb.build()


SCHEMA = schema()


def document(p: Paper) -> tantivy.Document:
    """The index document of one paper."""
    cats = {c.lower() for c in p.categories} | {c.lower().partition(".")[0] for c in p.categories}
    names = [a.name for a in p.authors]
    extra = " ".join(filter(None, (p.comment, p.journal_ref, p.doi)))
    return tantivy.Document(
        id=p.id,
        title=p.title,
        authors=names,
        abstract=p.abstract,
        extra=extra,
        akey=[k for n in names for k in author_keys(n)],
        cat=sorted(cats),
        date=paper_day(p),
    )


def paper_day(p: Paper) -> int:
    """The day a paper counts as published, YYYYMMDD: v1's date, else the month its id names.

    A daily feed's records carry no dates; a new-style id (``2411.17705``) still
    says its month, and an old-style one (``hep-th/9901001``) too.
    """
    known = day_number(p.published) or day_number(p.updated)
    if known:
        return known
    digits = p.id.rpartition("/")[2][:4]
    if len(digits) == 4 and digits.isdigit() and 1 <= int(digits[2:]) <= 12:
        year = int(digits[:2])
        return (2000 + year if year < 91 else 1900 + year) * 10000 + int(digits[2:]) * 100 + 1
    return 0


def day_number(iso: str | None) -> int:
    """'2024-11-27T18:00:00Z' → 20241127 (0 when unknown)."""
    if not iso or len(iso) < 10 or not iso[:4].isdigit():
        return 0
    return int(iso[:4] + iso[5:7] + iso[8:10])


def open_index(path: str | os.PathLike, create: bool = False) -> tantivy.Index:
    """Open (or, for the indexer, create) the index at ``path`` with our analyzers."""
    path = Path(path)
    if create:
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
    else:
        if not (path / "meta.json").is_file():
            raise SearchUnavailable("the search index is being built; try again in a minute")
        index = tantivy.Index.open(str(path))
    index.register_tokenizer(TEXT_ANALYZER, TEXT)
    index.register_tokenizer(NAME_ANALYZER, NAMES)
    return index


class TantivyEngine:
    """Search and related papers over one index directory; :meth:`index` is for the indexer."""

    def __init__(self, path: str | os.PathLike, writer: bool = False):
        self.path = Path(path)
        self._index: tantivy.Index | None = None
        self._writer_mode = writer
        self._mtime = 0
        self._checked = 0.0
        self._lock = threading.Lock()

    # --- reading -------------------------------------------------------------------------------
    def _searcher(self) -> tantivy.Searcher:
        with self._lock:
            if self._index is None:
                self._index = open_index(self.path, create=self._writer_mode)
                self._index.config_reader("Manual")
                self._mtime = -1
            now = time.monotonic()
            if now - self._checked >= RELOAD_EVERY:
                self._checked = now
                try:
                    mtime = (self.path / "meta.json").stat().st_mtime_ns
                except OSError:
                    mtime = self._mtime
                if mtime != self._mtime:  # the indexer committed: see its work
                    self._index.reload()
                    self._mtime = mtime
            return self._index.searcher()

    def refresh(self) -> None:
        """See the latest commit now (the next search would, within RELOAD_EVERY)."""
        self._checked = 0.0

    def count(self) -> int:
        """Papers in the index."""
        return self._searcher().num_docs

    def search(
        self, query: Query, filters: Filters | None = None, offset: int = 0, limit: int = PAGE_SIZE
    ) -> Hits:
        """One page of the papers matching ``query`` under ``filters``."""
        offset = max(0, offset)
        limit = max(0, min(limit, MAX_RESULTS - offset))
        filters = filters or Filters()
        q = _filtered(translate(query), filters)
        searcher = self._searcher()
        if limit == 0:
            return Hits(searcher.search(q, 1, count=True).count or 0)
        by_date = filters.sort == "date"
        result = searcher.search(
            q, limit, count=True, offset=offset, order_by_field="date" if by_date else None
        )
        hits = [
            Hit(searcher.doc(addr)["id"][0], None if by_date else float(key))
            for key, addr in result.hits
        ]
        return Hits(result.count or 0, hits)

    def related(self, paper: Paper, limit: int = 8, same_category: bool = True) -> list[Hit]:
        """Papers like ``paper``: MoreLikeThis over its title and abstract."""
        fields = {"title": [paper.title], "abstract": [paper.abstract]}
        mlt = tantivy.Query.more_like_this_document_fields_query(
            SCHEMA,
            fields,
            min_doc_frequency=2,
            max_doc_frequency=None,
            min_term_frequency=1,
            max_query_terms=20,
            min_word_length=3,
            max_word_length=MAX_WORD,
            boost_factor=1.0,
            stop_words=STOP_WORDS,
        )
        clauses = [(tantivy.Occur.Should, mlt)]
        clauses.append((tantivy.Occur.MustNot, _term("id", paper.id)))
        if same_category and paper.primary_category:
            clauses.append((tantivy.Occur.Must, _term("cat", paper.primary_category.lower())))
        searcher = self._searcher()
        result = searcher.search(tantivy.Query.boolean_query(clauses), limit, count=False)
        return [Hit(searcher.doc(addr)["id"][0], float(score)) for score, addr in result.hits]

    # --- writing (the indexer only) ---------------------------------------------------------------
    def index(self, papers: list[Paper], writer: tantivy.IndexWriter | None = None) -> None:
        """Replace these papers in the index and commit (``writer``: add only, caller commits)."""
        own = writer is None
        if own:
            writer = self.writer()
        for p in papers:
            writer.delete_documents_by_term("id", p.id)
            writer.add_document(document(p))
        if own:
            writer.commit()
            writer.wait_merging_threads()
            self.refresh()

    def writer(self, heap: int = 64_000_000, threads: int = 1) -> tantivy.IndexWriter:
        """The index's one writer (raises ValueError while another process holds it)."""
        with self._lock:
            if self._index is None:
                self._index = open_index(self.path, create=True)
                self._index.config_reader("Manual")
                self._mtime = -1
        return self._index.writer(heap, threads)


MAX_WORD = 30
STOP_WORDS = (
    "the a an and or of to in on for with by from at as is are be we our this that these "
    "which it its can using based via into than show paper propose proposed results method "
    "methods approach new also such has have been not but both between two one"
).split()


def _term(field: str, value) -> tantivy.Query:
    return tantivy.Query.term_query(SCHEMA, field, value)


def _in_field(field: str, text: str, phrase: bool) -> tantivy.Query | None:
    tokens = name_tokens(text) if field == "authors" else text_tokens(text)
    if not tokens:
        return None
    if len(tokens) == 1:
        return _term(field, tokens[0])
    if field in PHRASE_FIELDS:
        return tantivy.Query.phrase_query(SCHEMA, field, list(tokens))
    # Names in any order, and the short comments field: every word, anywhere in it.
    return _all(_term(field, t) for t in tokens)


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
    if len(full) < len(words):  # initials: "Hinton, G" needs a Hinton whose forename is G…
        keys = query_author_keys(text)
        if keys:
            parts.append(tantivy.Query.term_set_query(SCHEMA, "akey", keys))
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
        return _term("cat", c.text.lower())
    if c.field == "id":
        return _term("id", c.text)
    options = []
    for name, weight in TEXT_FIELDS.items():
        if c.phrase and name not in PHRASE_FIELDS:
            continue  # an exact phrase is looked for in titles and abstracts
        q = _in_field(name, c.text, c.phrase)
        if q is not None:
            options.append(tantivy.Query.boost_query(q, weight) if weight != 1.0 else q)
    ref = parse_id(c.text) if not c.phrase and any(ch.isdigit() for ch in c.text) else None
    if ref is not None:
        options.append(tantivy.Query.boost_query(_term("id", ref.id), 10.0))
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
        keys = query_author_keys(name)
        if keys:
            by_author = tantivy.Query.term_set_query(SCHEMA, "akey", keys)
            boosted = tantivy.Query.boost_query(by_author, AUTHOR_BOOST)
            clauses.append((tantivy.Occur.Should, boosted))
    return tantivy.Query.boolean_query(clauses)


def _filtered(q: tantivy.Query, f: Filters) -> tantivy.Query:
    clauses = [(tantivy.Occur.Must, q)]
    include = [canonical_category(t) for t in f.include]
    if include:
        clauses.append((tantivy.Occur.Must, _any(_term("cat", t.lower()) for t in include if t)))
    for t in f.exclude:
        clauses.append((tantivy.Occur.MustNot, _term("cat", t.lower())))
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


def parse_day(text: str) -> str:
    """A YYYY-MM-DD date, or QueryError."""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise QueryError(f"“{text[:20]}” is not a date (YYYY-MM-DD).") from None
