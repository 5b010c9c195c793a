"""The tantivy index's schema, and a paper's document in it.

The index stores only ids: everything shown comes from Redis, so the index
stays small (text is indexed, never stored) and can be rebuilt at any time.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import tantivy

from papermirror.records import Paper
from papermirror.search import SearchUnavailable
from papermirror.search.analysis import NAME_ANALYZER, NAMES, TEXT, TEXT_ANALYZER, author_keys

# Fields searched by a bare word or phrase, and their weights in BM25's sum.
TEXT_FIELDS = {"title": 3.0, "authors": 1.5, "abstract": 1.0, "extra": 0.5}
PHRASE_FIELDS = ("title", "abstract")


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


def document(p: Paper, announced: int = 0) -> tantivy.Document:
    """The index document of one paper (``announced``: see :func:`paper_day`)."""
    return tantivy.Document(
        **fields_of(
            p.id,
            p.title,
            [a.name for a in p.authors],
            p.abstract,
            (p.comment, p.journal_ref, p.doi),
            p.categories,
            paper_day(p.id, p.published, p.updated, announced),
        )
    )


def row_fields(row: list, announced: int = 0) -> dict:
    """:func:`document`'s fields for a record in :func:`papermirror.codec.serialize`'s row form.

    The indexer's hot path: no :class:`Paper` is built (the tests hold both equal).
    """
    (pid, _version, title, authors, abstract, categories, published, updated) = row[:8]
    names = [a if isinstance(a, str) else a[0] for a in authors]
    return fields_of(
        pid,
        title,
        names,
        abstract,
        row[9:12],
        categories,
        paper_day(pid, published, updated, announced),
    )


def document_row(row: list, announced: int = 0) -> tantivy.Document:
    """:func:`document` of a record in row form."""
    return tantivy.Document(**row_fields(row, announced))


def row_json(row: list, announced: int = 0) -> str:
    """:func:`document` of a record in row form, as the JSON ``IndexWriter.add_json`` takes.

    What the indexer and ``reindex`` add: one JSON text that tantivy parses in Rust
    costs the indexer's one Python thread less than a Document built from keyword
    arguments (about 15 instead of 22 us a paper, measured on the fixture papers).
    The tests hold the index it makes equal to :func:`document`'s.
    """
    return orjson.dumps(row_fields(row, announced)).decode()


def fields_of(paper_id, title, names, abstract, extras, categories, day) -> dict:
    """The document's fields from a record's (``extras``: comment, journal ref, DOI)."""
    cats = {c.lower() for c in categories}
    cats |= {c.partition(".")[0] for c in cats}
    return {
        "id": paper_id,
        "title": title or "",
        "authors": names,
        "abstract": abstract or "",
        "extra": " ".join(filter(None, extras)),
        "akey": [k for n in names for k in author_keys(n)],
        "cat": sorted(cats),
        "date": day,
    }


def paper_day(paper_id: str, published: str | None, updated: str | None, announced: int = 0) -> int:
    """The day a paper counts as published, YYYYMMDD, from the best that is known.

    v1's date; else (a paper known only from a daily feed, whose records carry
    no dates) the day a feed announced it, ``announced``; else its latest
    version's date; else the first of the month its id names (``2411.17705``,
    ``hep-th/9901001``); 0 when nothing is known.
    """
    known = day_number(published) or announced or day_number(updated)
    if known:
        return known
    digits = paper_id.rpartition("/")[2][:4]
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
