"""The public arXiv metadata snapshot: JSON lines, one paper per line, with full version history.

:func:`iter_snapshot` streams a plain or compressed file in constant memory;
:func:`parse_snapshot_line` turns one line into a :class:`Paper`.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
from collections.abc import Iterator
from typing import IO

from papermirror.feeds import paper_ref, split_authors, tex_to_unicode
from papermirror.oai import clean_abstract, rfc2822_to_iso
from papermirror.records import Author, Paper, Version

try:
    import zstandard
except ImportError:  # pragma: no cover - zstandard is a dependency, but optional here
    zstandard = None

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def parse_snapshot_line(line: str | bytes) -> Paper | None:
    """One snapshot line as a Paper; None (never an exception) for a blank or malformed line."""
    try:
        record = json.loads(line)
        return _paper(record) if isinstance(record, dict) else None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None


def iter_snapshot(path: str | os.PathLike) -> Iterator[Paper]:
    """Yield the papers of a snapshot file (plain, .gz, .bz2, .xz, or .zst), skipping bad lines."""
    with _open(path) as fh:
        for line in fh:
            if line.strip():
                paper = parse_snapshot_line(line)
                if paper is not None:
                    yield paper


def _open(path: str | os.PathLike) -> IO[bytes]:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix == ".zst":
        if zstandard is None:
            raise RuntimeError("reading .zst snapshots needs the zstandard package")
        # Files made with `zstd --long` need the large window; big dumps may
        # hold several frames.
        dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        reader = dctx.stream_reader(open(path, "rb"), read_across_frames=True, closefd=True)
        return io.BufferedReader(reader)
    return _OPENERS.get(suffix, open)(path, "rb")


def _paper(r: dict) -> Paper | None:
    ref = paper_ref(r["id"]) if isinstance(r.get("id"), str) else None
    title = r.get("title")
    if ref is None or not isinstance(title, str):
        return None
    versions = []
    for v in r.get("versions") or ():
        number = v.get("version", "").lstrip("v")
        if number.isdigit():
            versions.append(Version(int(number), rfc2822_to_iso(v.get("created"))))
    versions.sort(key=lambda v: v.number)
    parsed = r.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = tuple(a for a in map(_parsed_author, parsed) if a is not None)
    else:
        authors = split_authors(r.get("authors") or "", and_separates=True)
    extra = {k.replace("-", "_"): r[k] for k in ("report-no", "submitter") if r.get(k)}
    return Paper(
        id=ref.id,
        version=versions[-1].number if versions else ref.version or 1,
        title=" ".join(title.split()),
        authors=authors,
        abstract=clean_abstract(r.get("abstract")),
        categories=tuple((r.get("categories") or "").split()),
        published=versions[0].date if versions else None,
        updated=versions[-1].date if versions else None,
        versions=tuple(versions),
        comment=_clean(r.get("comments")),
        journal_ref=_clean(r.get("journal-ref")),
        doi=_clean(r.get("doi")),
        license=_clean(r.get("license")),
        source="snapshot",
        extra=extra,
    )


def _parsed_author(entry: list) -> Author | None:
    # [keyname, forenames, suffix, affiliation...], shown "Forenames Keyname Suffix".
    keyname, forenames, suffix = (list(entry[:3]) + ["", "", ""])[:3]
    name = " ".join(" ".join(p.split()) for p in (forenames, keyname, suffix) if p)
    if not name:
        return None
    if "\\" in name:
        name = tex_to_unicode(name)
    return Author(name, tuple(a for a in entry[3:] if isinstance(a, str) and a))


def _clean(value) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None
