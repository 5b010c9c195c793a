"""The search request's parameters, checked: category spec, dates, sort and page."""

from __future__ import annotations

from flask import request

from papermirror.categories import parse_spec
from papermirror.search import MAX_RESULTS, PAGE_SIZE, Filters, QueryError
from papermirror.search.query import parse_day


def filters() -> Filters:
    """The request's ``cat``, ``from``, ``until`` and ``sort`` (QueryError when malformed)."""
    args = request.args
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    cat = args.get("cat", "").strip()
    if cat:
        spec = parse_spec(cat)
        if spec is None:
            raise QueryError(
                "The categories are not a category spec (such as cs.AI, cs, or cs.AI+cs.LG-cs.CV)."
            )
        include, exclude = spec.include, spec.exclude
    since = _day(args.get("from", ""))
    until = _day(args.get("until", ""))
    if since and until and since > until:
        raise QueryError("The date range ends before it starts: “from” must not be after “until”.")
    sort = args.get("sort", "relevance").strip() or "relevance"
    if sort not in ("relevance", "date"):
        raise QueryError("Sort by “relevance” or by “date” (newest first).")
    return Filters(include, exclude, since, until, sort)


def _day(text: str) -> str | None:
    return parse_day(text) if text.strip() else None


def page_number() -> int:
    """The request's ``page``, 1 or more, within the result window (else QueryError)."""
    text = request.args.get("page", "1").strip() or "1"
    if not text.isdigit() or int(text) < 1:
        raise QueryError("The page number must be a whole number, 1 or more.")
    page = int(text)
    if (page - 1) * PAGE_SIZE >= MAX_RESULTS:
        raise QueryError(
            f"Results stop at the first {MAX_RESULTS:,}: narrow the search with more words, "
            "a category or a date range to see further."
        )
    return page
