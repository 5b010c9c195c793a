"""URLs that name a category listing rather than a paper: arXiv's and Cool Papers' listing pages.

Pure: no I/O. ``listing_target`` maps ``arxiv.org/list/cs.AI/new``, ``/list/cs.AI/recent``,
``/list/cs.LG/2106`` (a month: the mirror shows days, so the latest), ``rss.arxiv.org/rss/cs.AI``,
``arxiv.org/catchup/cs.AI/2024-11-28`` and ``papers.cool/arxiv/cs.AI?date=…`` to the spec and
day the mirror's own listing page shows. A URL that also names a paper is the paper resolver's
business (:func:`papermirror.ids.resolve` runs first). The cases are in
tests/data/url_cases.toml (their ``listing`` field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as Date
from urllib.parse import unquote

from papermirror.categories import parse_spec

# Hosts serving arXiv's routes (as papermirror.urlforms.ARXIV), and "" for a bare path.
_ARXIV_HOST = r"(?:[\w-]+\.)*arxiv\.org|xxx\.lanl\.gov|"
_URL = re.compile(
    r"^\s*(?:(?:https?:)?//)?(?:www\.)?(?P<host>[\w.-]*?)(?::\d+)?"
    r"(?P<path>/[^?#\s]*)(?:\?(?P<query>[^#\s]*))?(?:#\S*)?\s*$",
    re.IGNORECASE | re.ASCII,
)
_SPEC = r"(?P<spec>[\w.+,-]+)"
_DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"
# (host regex, path regex) rows; the path regex is matched whole.
_ROWS = (
    (_ARXIV_HOST, rf"/list/{_SPEC}(?:/[\w.-]*)?/?"),
    (_ARXIV_HOST, rf"/(?:rss|atom)/{_SPEC}/?"),
    (_ARXIV_HOST, rf"/catchup/{_SPEC}/{_DAY}/?"),
    (r"papers\.cool|", rf"/arxiv/{_SPEC}(?:/feed)?/?"),
)
_COMPILED = [(re.compile(h, re.I | re.A), re.compile(p, re.I | re.A)) for h, p in _ROWS]
_DATE_PARAM = re.compile(r"(?:^|[&;])date=(\d{4}-\d{2}-\d{2})(?:$|[&;])", re.A)


@dataclass(frozen=True, slots=True)
class ListingTarget:
    """A listing: the canonical spec (``cs.AI``) and a day (YYYY-MM-DD) or None for the latest."""

    spec: str
    day: str | None = None

    @property
    def path(self) -> str:
        """The mirror's path for it: ``/arxiv/cs.AI`` or ``/arxiv/cs.AI?date=2024-11-28``."""
        return f"/arxiv/{self.spec}" + (f"?date={self.day}" if self.day else "")


def listing_target(text: str) -> ListingTarget | None:
    """The listing a URL names, or None (not a listing URL, or an unknown category)."""
    if len(text) > 500:
        return None
    m = _URL.match(unquote(text))
    if m is None:
        return None
    host, path, query = m["host"].lower(), m["path"], m["query"] or ""
    for host_re, path_re in _COMPILED:
        if not host_re.fullmatch(host):
            continue
        p = path_re.fullmatch(path)
        if p is None:
            continue
        spec = parse_spec(p["spec"])
        if spec is None:
            return None
        day = p.groupdict().get("day")
        if day is None:
            d = _DATE_PARAM.search(query)
            day = d[1] if d else None
        return ListingTarget(spec.canonical, _valid_day(day))
    return None


def _valid_day(day: str | None) -> str | None:
    if day is None:
        return None
    try:
        return Date.fromisoformat(day).isoformat()
    except ValueError:
        return None
