"""The searches bench/search.py asks: realistic queries, and tantivy alone running them."""

from __future__ import annotations

import random
import time
from pathlib import Path

import _common  # noqa: F401 - the repository on sys.path

from papermirror.categories import parse_spec
from papermirror.search import PAGE_SIZE, Filters, parse
from papermirror.search.tantivy_query import filtered, translate
from papermirror.search.tantivy_schema import open_index


def queries(records: list[dict], n: int, rng: random.Random) -> list[dict]:
    """Realistic searches: title words, a phrase, an author, exclusions, filters and sorting."""
    out = []
    for i in range(n):
        r = rng.choice(records)
        words = [w.strip(".,:;()$") for w in r["title"].split() if len(w) > 3]
        words = [w for w in words if w.isalpha()] or ["learning"]
        kind = i % 6
        if kind == 0:
            q = " ".join(rng.sample(words, min(2, len(words))))
        elif kind == 1:
            q = " ".join(rng.sample(words, min(3, len(words))))
        elif kind == 2:
            q = f'"{" ".join(words[:2])}"'
        elif kind == 3:
            surname = (r.get("authors_parsed") or [["Smith"]])[0][0] or "Smith"
            q = f"au:{surname.split()[0]}"
        elif kind == 4:
            q = f"{words[0]} -{rng.choice(['graph', 'quantum', 'neural'])}"
        else:
            q = rng.choice(words)
        params = {"q": q}
        if i % 4 == 1:
            params["cat"] = r["categories"].split()[0]
        if i % 5 == 2:
            params["sort"] = "date"
        out.append(params)
    return out


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def tantivy_queries(index: Path, qs: list[dict]) -> list[float]:
    """Milliseconds of tantivy alone for each search: the engine's query, built beforehand,
    run for the first page and its total (what ``/api/search`` asks the engine for)."""
    searcher = open_index(index).searcher()
    built = []
    for params in qs:
        spec = parse_spec(params["cat"]) if "cat" in params else None
        sort = params.get("sort", "relevance")
        f = Filters(spec.include, spec.exclude, sort=sort) if spec else Filters(sort=sort)
        built.append(
            (filtered(translate(parse(params["q"])), f), "date" if sort == "date" else None)
        )
    return timed(lambda b: searcher.search(b[0], PAGE_SIZE, count=True, order_by_field=b[1]), built)
