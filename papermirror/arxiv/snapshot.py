"""The public arXiv metadata snapshot: JSON lines, one paper per line, with full version history.

:func:`iter_snapshot` streams a plain or compressed file in constant memory;
:func:`parse_snapshot_line` turns one line into a :class:`Paper`.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
from collections.abc import Iterator
from typing import IO

import zstandard

from papermirror.arxiv.bylines import paper_ref, split_authors, tex_to_unicode
from papermirror.arxiv.oai import clean_abstract, rfc2822_to_iso
from papermirror.records import Author, Paper, Version


def parse_snapshot_line(line: str | bytes) -> Paper | None:
    """One snapshot line as a Paper; None (never an exception) for a blank or malformed line."""
    try:
        record = json.loads(line)
        return _paper(record) if isinstance(record, dict) else None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None


def iter_snapshot(path: str | os.PathLike) -> Iterator[Paper]:
    """Yield the papers of a snapshot file (plain, .gz, .bz2, .xz, or .zst), skipping bad lines."""
    stream, raw = open_counted(path)
    with raw, stream:
        for block in read_blocks(stream):
            for line in block.splitlines():
                if line.strip():
                    paper = parse_snapshot_line(line)
                    if paper is not None:
                        yield paper


def open_counted(path: str | os.PathLike) -> tuple[IO[bytes], IO[bytes]]:
    """(decompressed stream, raw file) for a plain, .gz, .bz2, .xz or .zst file.

    The raw file's position tells how far the import got, for the progress bar.
    """
    raw = open(path, "rb")  # closed by the caller, with the stream
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix == ".gz":
        return gzip.GzipFile(fileobj=raw), raw
    if suffix == ".bz2":
        return bz2.BZ2File(raw), raw
    if suffix == ".xz":
        return lzma.LZMAFile(raw), raw
    if suffix == ".zst":
        # Files made with `zstd --long` need the large window.
        dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        return dctx.stream_reader(raw, read_across_frames=True), raw
    return raw, raw


def read_blocks(stream: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    """Chunks of whole lines, about ``size`` bytes each."""
    rest = b""
    while chunk := stream.read(size):
        chunk = rest + chunk
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            rest = chunk
            continue
        rest = chunk[cut:]
        yield chunk[:cut]
    if rest.strip():
        yield rest


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
        comment=clean_text(r.get("comments")),
        journal_ref=clean_text(r.get("journal-ref")),
        doi=clean_text(r.get("doi")),
        license=clean_text(r.get("license")),
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


def clean_text(value) -> str | None:
    """A string field with its white space folded; None for empty or not a string."""
    return " ".join(value.split()) or None if isinstance(value, str) else None
