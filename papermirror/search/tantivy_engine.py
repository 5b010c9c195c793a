"""The embedded search engine: tantivy (the engine Cool Papers runs), through its official bindings.

Schema and documents are in :mod:`~papermirror.search.tantivy_schema`, query
translation in :mod:`~papermirror.search.tantivy_query`.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import tantivy

from papermirror.records import Paper
from papermirror.search import MAX_RESULTS, PAGE_SIZE, Filters, Hit, Hits
from papermirror.search.query import Query
from papermirror.search.tantivy_query import filtered, term, translate
from papermirror.search.tantivy_schema import SCHEMA, document, open_index

RELOAD_EVERY = 0.25  # seconds between checks for a newer commit


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
        q = filtered(translate(query), filters)
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
        clauses.append((tantivy.Occur.MustNot, term("id", paper.id)))
        if same_category and paper.primary_category:
            clauses.append((tantivy.Occur.Must, term("cat", paper.primary_category.lower())))
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
