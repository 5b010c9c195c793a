"""The arXiv API client: ``id_list`` queries parsed into :class:`Paper` records.

:func:`parse_api_feed` is pure (bytes in, records out) and reads both the
current (2026) and the older (2016) Atom layouts. :class:`ApiClient` batches
ids into polite requests.

The feed is read with ElementTree rather than feedparser: feedparser flattens
``arxiv:affiliation`` to a single entry-level value (the last author's), which
loses the per-author affiliations we keep.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

from papermirror.arxiv.http import ArxivUnavailable, PoliteSession
from papermirror.ids import parse_id
from papermirror.records import Author, Paper, Version, merge
from papermirror.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "ApiClient",
    "ApiResult",
    "ArxivError",
    "ArxivUnavailable",
    "FetchResult",
    "MalformedFeed",
    "canonical_id",
    "parse_api_feed",
]

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

BATCH_SIZE = 100
# Ids arXiv may reject from one batch before we stop resending the rest.
MAX_REJECTED_PER_BATCH = 3

# Ids we send are validated by papermirror.ids, the one grammar of the project.
# Ids arXiv sends back are read with this looser pattern instead: what arXiv
# returns is a paper, even if our grammar would not have predicted its id.
# One anchored pattern per scheme; never split on "v" (solv-int/9901001v1).
_NEW_ID = re.compile(r"(?P<num>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?")
_OLD_ID = re.compile(
    r"(?P<arch>[a-z][a-z-]*)(?:\.[a-z][a-z-]*)?/(?P<num>\d{7})(?:v(?P<v>\d+))?", re.IGNORECASE
)
_ENTRY_ID = re.compile(r"^https?://arxiv\.org/abs/(?P<rest>.+)$")


class ArxivError(Exception):
    """arXiv answered with its Error feed (HTTP 400 for a malformed id).

    ``bad_id`` names the id arXiv rejected when its error id says so
    (``…/api/errors#incorrect_id_format_for_<id>``); ``ids`` is the batch sent.
    """

    def __init__(
        self, message: str, status: int, ids: Sequence[str] = (), bad_id: str | None = None
    ):
        super().__init__(message)
        self.status = status
        self.ids = list(ids)
        self.bad_id = bad_id


class MalformedFeed(ValueError):
    """The body is not an Atom feed (truncated, garbage, an HTML error page)."""


@dataclass
class ApiResult:
    """One parsed API response: the papers, or the Error feed's message."""

    papers: list[Paper] = field(default_factory=list)
    error: str | None = None
    error_id: str | None = None
    total_results: int | None = None


@dataclass
class FetchResult:
    """Outcome of :meth:`ApiClient.fetch`.

    ``found`` is keyed by canonical id; ``missing`` lists requested ids arXiv
    silently dropped; ``invalid`` lists ids that are not arXiv ids at all and
    were never sent.
    """

    found: dict[str, Paper] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    requests: int = 0


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


class ApiClient:
    """Fetches papers by id from the arXiv API, politely and in batches.

    Several processes may call :meth:`fetch` at once: every request still
    goes through the shared limiter of the :class:`PoliteSession`.
    """

    def __init__(self, settings: Settings, session: PoliteSession) -> None:
        self.settings = settings
        self.session = session

    def fetch(self, ids: Sequence[str]) -> FetchResult:
        """Fetch ``ids`` (canonical or versioned), at most 100 per request.

        Ids are normalized with :func:`papermirror.ids.parse_id` (so
        ``math.GT/0309136`` is sent as ``math/0309136``); ids it rejects land
        in ``invalid`` and are never sent. A versioned id asks for that version;
        ``missing`` keeps the version so a missing ``v9`` does not mark the
        whole paper missing.

        A malformed id in a batch makes arXiv answer HTTP 400 with its Error
        feed, failing the other 99 ids too. Callers should validate ids before
        queueing them; if arXiv still rejects one (its rules are stricter than
        ours), the id it names is moved to ``invalid`` and the rest of the
        batch is sent again (up to ``MAX_REJECTED_PER_BATCH`` times). An error that names
        no id of the batch raises :class:`ArxivError`: retrying the same ids
        cannot help. :class:`ArxivUnavailable` means no usable answer after
        every retry (network, 5xx, 429, malformed XML); the ids are neither
        found nor missing and should be tried again later.
        """
        result = FetchResult()
        wanted: dict[str, None] = {}
        for raw in ids:
            ref = parse_id(raw)
            if ref is None:
                result.invalid.append(raw)
            else:
                wanted[str(ref)] = None
        queue = list(wanted)
        for start in range(0, len(queue), BATCH_SIZE):
            self._fetch_batch(queue[start : start + BATCH_SIZE], result)
        return result

    def _fetch_batch(self, batch: list[str], result: FetchResult) -> None:
        for resend in range(MAX_REJECTED_PER_BATCH + 1):
            parsed, response = self._request(batch)
            result.requests += 1
            if parsed.error is None and response.status_code == 200:
                for paper in parsed.papers:
                    # id_list may name one paper in two versions: keep the newest.
                    result.found[paper.id] = merge(result.found.get(paper.id), paper)
                result.missing.extend(i for i in batch if canonical_id(i)[0] not in result.found)
                return
            error = ArxivError(
                f"arXiv API answered HTTP {response.status_code}: "
                f"{parsed.error or response.reason or 'no Error feed'}",
                status=response.status_code,
                ids=batch,
                bad_id=_bad_id(parsed.error_id),
            )
            if error.bad_id not in batch or resend == MAX_REJECTED_PER_BATCH:
                raise error
            log.warning("arXiv rejected id %r; sending the rest of its batch again", error.bad_id)
            result.invalid.append(error.bad_id)
            batch = [i for i in batch if i != error.bad_id]
            if not batch:
                return

    def _request(self, batch: list[str]) -> tuple[ApiResult, requests.Response]:
        parsed: list[ApiResult] = []

        def check(response: requests.Response) -> str | None:
            try:
                parsed[:] = [parse_api_feed(response.content)]
            except MalformedFeed as exc:
                if response.status_code >= 400:
                    # A 4xx without a feed (404, 406...) is an answer, not noise.
                    parsed[:] = [ApiResult()]
                    return None
                return str(exc)
            return None

        params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
        response = self.session.polite_get(self.settings.arxiv_api_url, params, check=check)
        return parsed[0], response


def _bad_id(error_id: str | None) -> str | None:
    prefix = "#incorrect_id_format_for_"
    if error_id and prefix in error_id:
        return error_id.split(prefix, 1)[1]
    return None


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
