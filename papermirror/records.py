"""The paper record: what the mirror knows about one arXiv paper.

Every source (API, RSS, OAI-PMH, the metadata snapshot) is parsed into a
:class:`Paper`; the store keeps one per paper and merges newer into older
with :func:`merge`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Author:
    """One author, with affiliations when the source gives them."""

    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a paper. ``date`` is an ISO 8601 UTC timestamp when known."""

    number: int
    date: str | None = None
    size: str | None = None


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper: the latest known version's metadata plus the version list.

    ``id`` is canonical and carries no version (``2104.12255``, ``hep-th/9901001``).
    ``categories`` lists the primary category first.
    ``published`` is v1's date and ``updated`` the latest version's, ISO 8601 UTC.
    """

    id: str
    version: int
    title: str
    authors: tuple[Author, ...] = ()
    abstract: str = ""
    categories: tuple[str, ...] = ()
    published: str | None = None
    updated: str | None = None
    versions: tuple[Version, ...] = ()
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    source: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def primary_category(self) -> str | None:
        """The primary category, or None when the source gave none."""
        return self.categories[0] if self.categories else None

    @property
    def versioned_id(self) -> str:
        """``<id>v<N>`` for the latest known version."""
        return f"{self.id}v{self.version}"


def _versions_union(a: tuple[Version, ...], b: tuple[Version, ...]) -> tuple[Version, ...]:
    by_number: dict[int, Version] = {}
    for v in (*a, *b):
        old = by_number.get(v.number)
        if old is None:
            by_number[v.number] = v
        else:
            by_number[v.number] = Version(v.number, old.date or v.date, old.size or v.size)
    return tuple(by_number[n] for n in sorted(by_number))


def merge(old: Paper | None, new: Paper) -> Paper:
    """Combine a stored record with a freshly parsed one.

    The newer version's metadata wins; an older version never replaces a newer
    one. Fields the winner lacks are filled from the other record, and the
    version lists are united. Merging is idempotent; between two equally rich
    records of the same version, the incoming one wins.
    """
    if old is None:
        return replace(new, versions=_versions_union((), new.versions))
    if new.version > old.version:
        winner, other = new, old
    elif new.version < old.version:
        winner, other = old, new
    else:
        # Same version: prefer the richer source (the API carries dates and
        # affiliations an RSS item lacks), filling gaps from the other.
        winner, other = (new, old) if _richness(new) >= _richness(old) else (old, new)
    filled = {}
    for name in ("title", "abstract", "comment", "journal_ref", "doi", "license"):
        if not getattr(winner, name) and getattr(other, name):
            filled[name] = getattr(other, name)
    if not winner.authors and other.authors:
        filled["authors"] = other.authors
    if not winner.categories and other.categories:
        filled["categories"] = other.categories
    published = min(filter(None, (old.published, new.published)), default=None)
    updated = winner.updated or (other.updated if other.version == winner.version else None)
    return replace(
        winner,
        **filled,
        published=published,
        updated=updated,
        versions=_versions_union(old.versions, new.versions),
    )


def _richness(p: Paper) -> int:
    return (
        bool(p.published)
        + bool(p.updated)
        + bool(p.comment)
        + bool(p.journal_ref)
        + sum(bool(a.affiliations) for a in p.authors)
        + len(p.versions)
    )


def to_dict(p: Paper) -> dict:
    """A JSON-ready dict of the record (the shape of ``/api/papers/<id>``)."""
    return {
        "id": p.id,
        "version": p.version,
        "title": p.title,
        "authors": [{"name": a.name, "affiliations": list(a.affiliations)} for a in p.authors],
        "abstract": p.abstract,
        "categories": list(p.categories),
        "primary_category": p.primary_category,
        "published": p.published,
        "updated": p.updated,
        "versions": [{"version": v.number, "date": v.date, "size": v.size} for v in p.versions],
        "comment": p.comment,
        "journal_ref": p.journal_ref,
        "doi": p.doi,
        "license": p.license,
        "source": p.source,
    }
