"""The arXiv API's Atom answers, parsed: pure functions, bytes in, :class:`Paper` records out.

:func:`parse_api_feed` reads both the current (2026) and the older (2016)
Atom layouts. The feed is read with ElementTree rather than feedparser:
feedparser flattens ``arxiv:affiliation`` to a single entry-level value (the
last author's), which loses the per-author affiliations we keep.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime

from papermirror.records import Author, Paper, Version

log = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

# Ids we send are validated by papermirror.ids, the one grammar of the project.
# Ids arXiv sends back are read with this looser pattern instead: what arXiv
# returns is a paper, even if our grammar would not have predicted its id.
# One anchored pattern per scheme; never split on "v" (solv-int/9901001v1).
_NEW_ID = re.compile(r"(?P<num>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?")
_OLD_ID = re.compile(
    r"(?P<arch>[a-z][a-z-]*)(?:\.[a-z][a-z-]*)?/(?P<num>\d{7})(?:v(?P<v>\d+))?", re.IGNORECASE
)
_ENTRY_ID = re.compile(r"^https?://arxiv\.org/abs/(?P<rest>.+)$")


class MalformedFeed(ValueError):
    """The body is not an Atom feed (truncated, garbage, an HTML error page)."""


@dataclass
class ApiResult:
    """One parsed API response: the papers, or the Error feed's message."""

    papers: list[Paper] = field(default_factory=list)
    error: str | None = None
    error_id: str | None = None
    total_results: int | None = None


def canonical_id(text: str) -> tuple[str, int | None] | None:
    """``(canonical id, version or None)`` of an id as arXiv writes it, or None if malformed.

    Old-style ids lose their subject class and get a lower-case archive
    (``math.GT/0309136v2`` → ``("math/0309136", 2)``).
    """
    text = text.strip()
    if text[:6].lower() == "arxiv:":
        text = text[6:]
    if m := _NEW_ID.fullmatch(text):
        return m["num"], int(m["v"]) if m["v"] else None
    if m := _OLD_ID.fullmatch(text):
        return f"{m['arch'].lower()}/{m['num']}", int(m["v"]) if m["v"] else None
    return None


def parse_api_feed(body: bytes) -> ApiResult:
    """Parse an API response body. Raises :class:`MalformedFeed` if it is not a feed."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedFeed(f"unparseable API response: {exc}") from None
    if root.tag != f"{ATOM}feed":
        raise MalformedFeed(f"API response is not an Atom feed (root {root.tag!r})")
    result = ApiResult(total_results=_int(root.findtext(f"{OPENSEARCH}totalResults")))
    for entry in root.iterfind(f"{ATOM}entry"):
        entry_id = _text(entry, "id")
        if _text(entry, "title") == "Error" and "/api/errors" in entry_id:
            result.error = _text(entry, "summary") or "unknown arXiv API error"
            result.error_id = entry_id
            continue
        paper = _parse_entry(entry, entry_id)
        if paper is not None:
            result.papers.append(paper)
    return result


def _parse_entry(entry: ET.Element, entry_id: str) -> Paper | None:
    m = _ENTRY_ID.match(entry_id)
    parsed = canonical_id(m["rest"]) if m else None
    if parsed is None:
        log.warning("skipping API entry with unexpected id %r", entry_id)
        return None
    paper_id, version = parsed
    version = version or 1
    published = _iso_utc(_text(entry, "published"))
    updated = _iso_utc(_text(entry, "updated"))
    versions = [Version(1, published)]
    if version > 1:
        versions.append(Version(version, updated))
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [primary.get("term")] if primary is not None else []
    terms += [c.get("term") for c in entry.iterfind(f"{ATOM}category")]
    links = {
        (link.get("title") or link.get("rel") or ""): link.get("href")
        for link in entry.iterfind(f"{ATOM}link")
    }
    license_link = links.pop("license", None)
    return Paper(
        id=paper_id,
        version=version,
        title=" ".join(_text(entry, "title").split()),
        authors=tuple(_parse_author(a) for a in entry.iterfind(f"{ATOM}author")),
        abstract=_text(entry, "summary").strip(),
        categories=tuple(dict.fromkeys(t.strip() for t in terms if t and t.strip())),
        published=published,
        updated=updated,
        versions=tuple(versions),
        comment=_optional(entry.findtext(f"{ARXIV}comment")),
        journal_ref=_optional(entry.findtext(f"{ARXIV}journal_ref")),
        doi=_optional(entry.findtext(f"{ARXIV}doi")),
        license=_optional(entry.findtext(f"{ARXIV}license"))
        or _optional(entry.findtext(f"{ATOM}rights"))
        or license_link,
        source="api",
        extra={"links": links},
    )


def _parse_author(author: ET.Element) -> Author:
    affiliations = (_optional(a.text) for a in author.iterfind(f"{ARXIV}affiliation"))
    return Author(
        name=" ".join((author.findtext(f"{ATOM}name") or "").split()),
        affiliations=tuple(a for a in affiliations if a),
    )


def _text(entry: ET.Element, name: str) -> str:
    return entry.findtext(f"{ATOM}{name}") or ""


def _optional(text: str | None) -> str | None:
    text = " ".join(text.split()) if text else ""
    return text or None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _iso_utc(text: str) -> str | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
