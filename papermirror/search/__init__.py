"""Full-text search over every stored paper, and related papers.

Redis stays the source of truth; the index is a derived view that can be
thrown away and rebuilt (``papermirror reindex``). Every write of a paper
record announces its id on a Redis Stream (:mod:`papermirror.search.announce`);
one indexer per index consumes it and is the index's only writer
(:mod:`papermirror.search.indexer`); web processes search read-only.

Routes see only the small interface below (:class:`SearchEngine`), so a second
engine can be added without touching them. This module imports no engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from papermirror.records import Paper
from papermirror.search.query import Query, QueryError, parse

__all__ = ["Filters", "Hit", "Hits", "Query", "QueryError", "SearchEngine", "parse"]

PAGE_SIZE = 25
# No query may cost more than about a second: results stop at this depth; a
# reader narrows the search (a category, a date range) to go further.
MAX_RESULTS = 2000


class SearchUnavailable(Exception):
    """The index does not exist yet (the indexer builds it) or cannot be read."""


@dataclass(frozen=True)
class Filters:
    """What narrows a search besides the query: categories, dates (YYYY-MM-DD), order."""

    include: tuple[str, ...] = ()  # categories or archives, any of which a paper has
    exclude: tuple[str, ...] = ()  # categories or archives a paper must not have
    since: str | None = None
    until: str | None = None
    sort: str = "relevance"  # or "date": newest first


@dataclass(frozen=True)
class Hit:
    """One matching paper id and its score (None when sorted by date)."""

    id: str
    score: float | None


@dataclass
class Hits:
    """One page of results and how many papers match in all."""

    total: int
    hits: list[Hit] = field(default_factory=list)


class SearchEngine(Protocol):
    """What every search engine offers the routes and the indexer."""

    def index(self, papers: list[Paper]) -> None:
        """Add or replace these papers (only the indexer calls this)."""

    def search(
        self, query: Query, filters: Filters | None = None, offset: int = 0, limit: int = PAGE_SIZE
    ) -> Hits:
        """The papers matching ``query``, best first (or newest, by ``filters.sort``)."""

    def related(self, paper: Paper, limit: int = 8, same_category: bool = True) -> list[Hit]:
        """Papers like ``paper`` (by title and abstract), itself excluded."""
