"""arXiv announcement feeds (rss.arxiv.org RSS 2.0 and Atom, and the old RDF) parsed into papers.

:func:`parse_feed` turns one day's feed into a :class:`Feed` of
:class:`Announcement` items. An empty channel is a normal day without
announcements (weekends, holidays); a "Feed error for query" channel is an error.
All strings are plain text (abstracts keep arXiv's TeX and may contain ``<``),
so pages must escape them.

An item's ``category`` elements come primary first, then the others sorted
(true of all 1504 items of the 2024-11-28 feed; a cross-list's first category
lies outside the query), so ``Paper.categories`` keeps their order. The feed
gives no submission dates: ``published``/``updated`` stay None.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.sax import SAXException

import feedparser

from papermirror.arxiv.bylines import paper_ref, split_authors
from papermirror.records import Paper, Version

ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")

_DESCRIPTION = re.compile(r"arXiv:(\S+)\s+Announce Type:\s*([\w-]+)\s*(?:Abstract:\s*)?")
_RDF_TITLE = re.compile(
    r"^(?P<title>.*?)\s*\(arXiv:(?P<id>\S+)\s+\[(?P<cat>[^\]]+)\](?P<mark>[^)]*)\)\s*$", re.S
)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_QUERY_LINK = re.compile(r"/(?:rss|atom)/([^/?#\s]+)/?$")
_QUERY_TITLE = re.compile(r"^(.*?) updates on arXiv\.org$")
_FEED_ERROR = "Feed error for query"


@dataclass(frozen=True, slots=True)
class Announcement:
    """One feed item: the paper as announced, and how (``new``, ``cross``, ``replace``...)."""

    paper: Paper
    announce_type: str
    version: int


@dataclass(frozen=True, slots=True)
class Feed:
    """One fetched feed.

    ``date`` is the announcement day (YYYY-MM-DD, US Eastern). ``empty`` means
    a channel without items and without error: a normal day with no announcements.
    ``skipped`` counts items that carried no recognisable arXiv id.
    """

    date: str | None
    categories_query: str
    items: list[Announcement] = field(default_factory=list)
    error: str | None = None
    empty: bool = False
    format: str = ""
    skipped: int = 0


def feed_url(base: str, categories: Iterable[str]) -> str:
    """The feed URL for several categories at once: ``<base>/cs.AI+cs.CL``."""
    return base.rstrip("/") + "/" + "+".join(categories)


def parse_feed(body: bytes) -> Feed:
    """Parse an RSS 2.0, Atom 1.0 or RSS 1.0 (RDF) arXiv feed.

    ``error`` is set for arXiv's error channel, for a body that is no feed, and
    for malformed XML (a truncated download); then ``items`` holds at most what
    was readable and the fetch should count as failed.
    """
    # Sanitising would mangle abstracts: it reads "$1<s<2$" as an HTML tag.
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    channel = parsed.feed
    title = channel.get("title", "")
    query = _categories_query(channel, title)
    date = _announcement_date(channel, parsed.entries)
    fmt = parsed.get("version", "")
    if title.startswith(_FEED_ERROR):
        detail = channel.get("subtitle", "")
        return Feed(date, query, [], f"{title} ({detail})" if detail else title, False, fmt)
    if not parsed.entries and not title:
        reason = parsed.get("bozo_exception") or "no channel"
        return Feed(date, query, [], f"unreadable feed: {reason}", False, fmt)
    old = fmt == "rss10"
    items = []
    for entry in parsed.entries:
        item = _rdf_item(entry, query) if old else _item(entry)
        if item is not None:
            items.append(item)
    skipped = len(parsed.entries) - len(items)
    error = None
    if isinstance(parsed.get("bozo_exception"), SAXException):
        error = f"malformed feed: {parsed.bozo_exception}"
    return Feed(date, query, items, error, not parsed.entries and not error, fmt, skipped)


def _item(entry) -> Announcement | None:
    # dict.get skips FeedParserDict's key aliasing, once the bulk of per-item time.
    get = dict.get
    summary = get(entry, "summary", "")
    m = _DESCRIPTION.match(summary)
    ref = paper_ref(get(entry, "id", ""))
    if (ref is None or ref.version is None) and m:
        ref = paper_ref(m.group(1))
    if ref is None or ref.version is None:
        return None
    paper_id, version = ref.id, ref.version
    kind = get(entry, "arxiv_announce_type") or (m.group(2) if m else "")
    abstract = summary[m.end() :].strip() if m else summary.strip()
    paper = Paper(
        id=paper_id,
        version=version,
        title=" ".join(get(entry, "title", "").split()),
        authors=split_authors(get(entry, "author", "")),
        abstract=abstract,
        categories=tuple(term for t in get(entry, "tags", ()) if (term := dict.get(t, "term"))),
        versions=(Version(version),),
        journal_ref=get(entry, "arxiv_journal_reference") or None,
        doi=get(entry, "arxiv_doi") or None,
        license=get(entry, "rights") or None,
        source="rss",
    )
    return Announcement(paper, kind.strip().lower(), version)


def _rdf_item(entry, query: str) -> Announcement | None:
    m = _RDF_TITLE.match(entry.get("title", ""))
    ref = paper_ref(m["id"]) if m else None
    if ref is None or ref.version is None:
        return None
    paper_id, version = ref.id, ref.version
    category, mark = m["cat"].strip(), m["mark"].upper()
    terms = [t.lower() for t in query.split("+")]
    outside = category.lower() not in terms and category.partition(".")[0].lower() not in terms
    if "CROSS LISTED" in mark:
        kind = "cross"
    elif "UPDATED" in mark:
        kind = "replace-cross" if outside else "replace"
    else:
        kind = "new"
    creators = html.unescape(_TAG.sub("", entry.get("author", "")))
    abstract = html.unescape(_TAG.sub("", entry.get("summary", "")))
    paper = Paper(
        id=paper_id,
        version=version,
        title=" ".join(m["title"].split()),
        authors=split_authors(creators),
        abstract=" ".join(abstract.split()),
        # A cross-list's bracket names the listing's category, not the primary.
        categories=() if kind == "cross" else (category,),
        versions=(Version(version),),
        source="rss",
        extra={"listing_category": category},
    )
    return Announcement(paper, kind, version)


def _categories_query(channel, title: str) -> str:
    for link in (channel.get("link", ""), channel.get("id", "")):
        m = _QUERY_LINK.search(link or "")
        if m:
            return m.group(1)
    m = _QUERY_TITLE.match(title)
    return "+".join(p.strip() for p in m.group(1).split(",")) if m else ""


def _announcement_date(channel, entries) -> str | None:
    # dict.get: FeedParserDict.get("updated") falls back to "published", with a warning.
    candidates = [dict.get(channel, "published"), dict.get(channel, "updated")]
    candidates += [dict.get(e, "published") for e in entries[:1]]
    for text in candidates:
        if text and (when := _parse_time(text)):
            return _eastern_date(when)
    return None


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _eastern_date(when: datetime) -> str:
    offset = when.utcoffset()
    # arXiv states its own Eastern offset (-0500 / -0400): take the day as
    # written. Other offsets (Atom's UTC) are converted with US DST rules.
    if offset in (timedelta(hours=-5), timedelta(hours=-4)):
        return when.date().isoformat()
    utc = when.astimezone(UTC).replace(tzinfo=None)
    return (utc - timedelta(hours=4 if _us_dst(utc) else 5)).date().isoformat()


def _us_dst(utc: datetime) -> bool:
    # Since 2007: from the second Sunday of March, 2:00 EST, to the first
    # Sunday of November, 2:00 EDT.
    march = datetime(utc.year, 3, 8)
    start = march + timedelta(days=(6 - march.weekday()) % 7, hours=7)
    november = datetime(utc.year, 11, 1)
    end = november + timedelta(days=(6 - november.weekday()) % 7, hours=6)
    return start <= utc < end
