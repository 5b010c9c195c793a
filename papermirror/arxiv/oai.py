"""OAI-PMH responses (ListRecords, GetRecord) parsed into papers, and 503 flow control.

Three metadata formats are read: ``arXiv`` (structured authors with
affiliations, licence; no version numbers), ``arXivRaw`` (the full version
history, so the exact latest version) and ``oai_dc`` (basic). For harvesting,
prefer ``arXivRaw``.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

from papermirror.arxiv.bylines import paper_ref, split_authors, tex_to_unicode
from papermirror.categories import SUBJECT_NAMES
from papermirror.records import Author, Paper, Version

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
DC = "{http://purl.org/dc/elements/1.1/}"
NO_RECORDS_MATCH = "noRecordsMatch"

_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}
_PARAGRAPH = re.compile(r"\n(?=[ \t])")


@dataclass(frozen=True, slots=True)
class OaiPage:
    """One OAI-PMH response page.

    ``resumption_token`` is None when the list is complete. ``error`` is
    ``(code, message)``; ``noRecordsMatch`` means an empty harvest window, not
    a failure (see :attr:`no_records` and :attr:`failed`). ``deleted`` lists
    the ids of deleted records, which are not in ``papers``.
    """

    papers: list[Paper] = field(default_factory=list)
    resumption_token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    error: tuple[str, str] | None = None
    deleted: list[str] = field(default_factory=list)
    response_date: str | None = None

    @property
    def no_records(self) -> bool:
        """True when the harvest window was simply empty (``noRecordsMatch``)."""
        return self.error is not None and self.error[0] == NO_RECORDS_MATCH

    @property
    def failed(self) -> bool:
        """True for a real OAI error (bad token, bad argument...), not an empty window."""
        return self.error is not None and not self.no_records


def parse_oai(body: bytes) -> OaiPage:
    """Parse a ListRecords or GetRecord response in the arXiv, arXivRaw or oai_dc format.

    Raises ``xml.etree.ElementTree.ParseError`` on a body that is not XML.
    """
    papers: list[Paper] = []
    deleted: list[str] = []
    token = size = cursor = error = response_date = None
    for _, elem in ET.iterparse(io.BytesIO(body), events=("end",)):
        tag = elem.tag
        if tag == OAI + "record":
            header = elem.find(OAI + "header")
            if header is not None and header.get("status") == "deleted":
                ref = paper_ref(header.findtext(OAI + "identifier", ""))
                if ref:
                    deleted.append(ref.id)
            else:
                paper = _record(elem)
                if paper is not None:
                    papers.append(paper)
            # Keep memory flat on 1000-record pages.
            elem.clear()
        elif tag == OAI + "resumptionToken":
            token = (elem.text or "").strip() or None
            size = _int(elem.get("completeListSize"))
            cursor = _int(elem.get("cursor"))
        elif tag == OAI + "error":
            error = (elem.get("code", ""), " ".join((elem.text or "").split()))
        elif tag == OAI + "responseDate":
            response_date = (elem.text or "").strip() or None
    return OaiPage(papers, token, size, cursor, error, deleted, response_date)


def rfc2822_to_iso(text: str | None) -> str | None:
    """``Mon, 2 Apr 2007 19:18:42 GMT`` -> ``2007-04-02T19:18:42Z``; None if unreadable."""
    if not text:
        return None
    parts = text.split()
    # The fast path covers arXiv's fixed GMT format; anything else goes the slow way.
    if len(parts) == 6 and parts[5] == "GMT" and parts[2] in _MONTHS and len(parts[4]) == 8:
        return f"{parts[3]}-{_MONTHS[parts[2]]}-{int(parts[1]):02d}T{parts[4]}Z"
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_abstract(text: str | None) -> str:
    """Undo arXiv's hard line wrapping; an indented line starts a new paragraph."""
    if not text:
        return ""
    paragraphs = _PARAGRAPH.split(text.strip())
    return "\n".join(" ".join(p.split()) for p in paragraphs)


def _record(record: ET.Element) -> Paper | None:
    metadata = record.find(OAI + "metadata")
    if metadata is None or len(metadata) == 0:
        return None
    meta = metadata[0]
    header_id = record.findtext(f"{OAI}header/{OAI}identifier", "")
    datestamp = record.findtext(f"{OAI}header/{OAI}datestamp")
    if meta.tag == ARXIV_RAW + "arXivRaw":
        paper = _arxiv_raw(meta, header_id)
    elif meta.tag == ARXIV + "arXiv":
        paper = _arxiv(meta, header_id)
    elif meta.tag == OAI_DC + "dc":
        paper = _oai_dc(meta, header_id)
    else:
        return None
    if paper is not None and datestamp:
        paper.extra["datestamp"] = datestamp.strip()
    return paper


def _common(meta: ET.Element, ns: str) -> dict:
    """The fields arXiv and arXivRaw share."""
    extra = {}
    for tag in ("report-no", "msc-class", "acm-class", "proxy", "submitter"):
        value = _text(meta, ns + tag)
        if value:
            extra[tag.replace("-", "_")] = value
    return dict(
        title=_text(meta, ns + "title") or "",
        abstract=clean_abstract(meta.findtext(ns + "abstract")),
        categories=tuple((meta.findtext(ns + "categories") or "").split()),
        comment=_text(meta, ns + "comments"),
        journal_ref=_text(meta, ns + "journal-ref"),
        doi=_text(meta, ns + "doi"),
        license=_text(meta, ns + "license"),
        source="oai",
        extra=extra,
    )


def _arxiv_raw(meta: ET.Element, header_id: str) -> Paper | None:
    ref = paper_ref(meta.findtext(ARXIV_RAW + "id") or header_id)
    if ref is None:
        return None
    versions = []
    for v in meta.iter(ARXIV_RAW + "version"):
        number = v.get("version", "").lstrip("v")
        if number.isdigit():
            date = rfc2822_to_iso(v.findtext(ARXIV_RAW + "date"))
            size = (v.findtext(ARXIV_RAW + "size") or "").strip() or None
            versions.append(Version(int(number), date, size))
    # arXiv lists versions as strings (v1, v10, v11, ..., v2): sort by number.
    versions.sort(key=lambda v: v.number)
    fields = _common(meta, ARXIV_RAW)
    return Paper(
        id=ref.id,
        version=versions[-1].number if versions else ref.version or 1,
        authors=split_authors(meta.findtext(ARXIV_RAW + "authors") or "", and_separates=True),
        published=versions[0].date if versions else None,
        updated=versions[-1].date if versions else None,
        versions=tuple(versions),
        **fields,
    )


def _arxiv(meta: ET.Element, header_id: str) -> Paper | None:
    ref = paper_ref(meta.findtext(ARXIV + "id") or header_id)
    if ref is None:
        return None
    authors = []
    for a in meta.iter(ARXIV + "author"):
        parts = (_text(a, ARXIV + t) for t in ("forenames", "keyname", "suffix"))
        name = " ".join(p for p in parts if p)
        if "\\" in name:
            name = tex_to_unicode(name)
        affiliations = tuple(t for x in a.iter(ARXIV + "affiliation") if (t := _clean(x.text)))
        if name:
            authors.append(Author(name, affiliations))
    created = _text(meta, ARXIV + "created")
    updated = _text(meta, ARXIV + "updated")
    fields = _common(meta, ARXIV)
    # This format has no version numbers: <updated> only says there is more
    # than one, so 2 is a lower bound (marked in extra).
    if updated:
        fields["extra"]["version_exact"] = False
    return Paper(
        id=ref.id,
        version=2 if updated else 1,
        authors=tuple(authors),
        published=created,
        updated=updated or created,
        versions=(Version(1, created),),
        **fields,
    )


def _oai_dc(meta: ET.Element, header_id: str) -> Paper | None:
    ref = paper_ref(header_id)
    if ref is None:
        return None
    authors = []
    for creator in meta.iter(DC + "creator"):
        keyname, _, forenames = (creator.text or "").partition(",")
        name = _clean(f"{forenames} {keyname}")
        if name:
            authors.append(Author(tex_to_unicode(name) if "\\" in name else name))
    descriptions = [d.text or "" for d in meta.iter(DC + "description")]
    comments = [d[len("Comment:") :].strip() for d in descriptions if d.startswith("Comment:")]
    abstracts = [d for d in descriptions if not d.startswith("Comment:")]
    subjects = (SUBJECT_NAMES.get(_clean(s.text)) for s in meta.iter(DC + "subject"))
    dates = [d for x in meta.iter(DC + "date") if (d := _clean(x.text))]
    extra = {"version_exact": False} if len(dates) > 1 else {}
    return Paper(
        id=ref.id,
        version=max(len(dates), 1),
        title=_text(meta, DC + "title") or "",
        authors=tuple(authors),
        abstract=clean_abstract(abstracts[0] if abstracts else ""),
        # dc:subject gives names, not codes, and does not mark the primary.
        categories=tuple(dict.fromkeys(c for c in subjects if c)),
        published=dates[0] if dates else None,
        updated=dates[-1] if dates else None,
        versions=(Version(1, dates[0]),) if dates else (),
        comment=comments[0] if comments else None,
        license=_text(meta, DC + "rights"),
        source="oai",
        extra=extra,
    )


def _text(elem: ET.Element, tag: str) -> str | None:
    return _clean(elem.findtext(tag))


def _clean(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None


def _int(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None
