"""papermirror.arxiv.snapshot: snapshot-shaped lines made from the real OAI fixtures, and bad lines.

No real snapshot file is at hand, so :func:`snapshot_records` writes arXiv's
snapshot format (one JSON object per paper) from the recorded OAI pages.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import inspect
import json
import lzma
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import format_datetime

import pytest
import zstandard

from papermirror.arxiv.oai import parse_oai
from papermirror.arxiv.snapshot import iter_snapshot, parse_snapshot_line
from papermirror.records import Author, Version

RAW_PAGE = "oai2014_listrecords_arXivRaw_resumption_page96001_1000records.xml.gz"
ARXIV_PAGE = "oai2016_listrecords_arXiv_set_cs_from2015-01-16_until2015-01-18.xml"
RAW = "{http://arxiv.org/OAI/arXivRaw/}"
ARX = "{http://arxiv.org/OAI/arXiv/}"
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def _gmt(day: str) -> str:
    return format_datetime(datetime.fromisoformat(day + "T00:00:00+00:00"), usegmt=True)


def snapshot_records(body: bytes) -> list[dict]:
    """Snapshot-format dicts for the records of an arXivRaw or arXiv OAI page."""
    out = []
    for record in ET.fromstring(body).iter(OAI + "record"):
        meta = record.find(OAI + "metadata")[0]
        ns = RAW if meta.tag == RAW + "arXivRaw" else ARX
        row = {
            k: meta.findtext(ns + k)
            for k in ("id", "submitter", "title", "comments", "journal-ref", "doi", "report-no")
        }
        row |= {
            "categories": meta.findtext(ns + "categories"),
            "license": meta.findtext(ns + "license"),
            "abstract": meta.findtext(ns + "abstract"),
            "update_date": record.findtext(f"{OAI}header/{OAI}datestamp"),
        }
        if ns == RAW:
            row["authors"] = meta.findtext(RAW + "authors")
            row["versions"] = [
                {"version": v.get("version"), "created": v.findtext(RAW + "date")}
                for v in meta.iter(RAW + "version")
            ]
        else:
            authors = [
                [a.findtext(ARX + t) or "" for t in ("keyname", "forenames", "suffix")]
                + [x.text for x in a.iter(ARX + "affiliation")]
                for a in meta.iter(ARX + "author")
            ]
            row["authors"] = ", ".join(f"{a[1]} {a[0]}".strip() for a in authors)
            row["authors_parsed"] = authors
            dates = [meta.findtext(ARX + "created")] + [meta.findtext(ARX + "updated")]
            row["versions"] = [
                {"version": f"v{i}", "created": _gmt(d)} for i, d in enumerate(dates, 1) if d
            ]
        out.append(row)
    return out


@pytest.fixture(scope="module")
def raw_body(fixtures_dir) -> bytes:
    return gzip.decompress((fixtures_dir / RAW_PAGE).read_bytes())


@pytest.fixture(scope="module")
def lines(raw_body) -> list[str]:
    return [json.dumps(r) for r in snapshot_records(raw_body)]


def test_round_trip_against_oai_arxivraw(raw_body, lines):
    """A snapshot line gives the arXivRaw record's Paper, but for source and sizes."""
    oai = {p.id: p for p in parse_oai(raw_body).papers}
    assert len(lines) == len(oai) == 1000
    for line in lines:
        paper = parse_snapshot_line(line)
        assert paper.source == "snapshot"
        # The snapshot's version list has no sizes.
        expected = oai[paper.id]
        sizeless = tuple(Version(v.number, v.date) for v in expected.versions)
        assert dataclasses.replace(paper, source="oai") == dataclasses.replace(
            expected, versions=sizeless
        )


def test_eighteen_versions(lines):
    line = next(s for s in lines if '"id": "0811.3693"' in s)
    paper = parse_snapshot_line(line.encode())
    assert paper.version == 18
    assert [v.number for v in paper.versions] == list(range(1, 19))
    assert paper.versions[-1] == Version(18, "2011-08-24T19:02:04Z")
    assert (paper.published, paper.updated) == ("2008-11-22T16:22:20Z", "2011-08-24T19:02:04Z")


def test_authors_parsed_is_preferred(fixtures_dir):
    body = (fixtures_dir / ARXIV_PAGE).read_bytes()
    oai = {p.id: p for p in parse_oai(body).papers}
    records = snapshot_records(body)
    assert len(records) == 46
    for record in records:
        # A wrong "authors" string shows whether authors_parsed was used.
        record["authors"] = "Nobody Atall"
        paper = parse_snapshot_line(json.dumps(record))
        expected = oai[paper.id]
        assert paper.authors == expected.authors
        assert paper.categories == expected.categories
        assert (paper.title, paper.abstract, paper.doi) == (
            expected.title,
            expected.abstract,
            expected.doi,
        )
        assert paper.published == expected.published + "T00:00:00Z"


def test_authors_parsed_shape():
    line = json.dumps(
        {
            "id": "0704.0001",
            "title": "A title",
            "authors": "C. Bal\\'azs, P. Smith Jr",
            "authors_parsed": [["Balázs", "C.", ""], ["Smith", "P.", "Jr", "MIT", "CERN"]],
            "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
        }
    )
    paper = parse_snapshot_line(line)
    assert paper.authors == (Author("C. Balázs"), Author("P. Smith Jr", ("MIT", "CERN")))
    assert paper.versions == (Version(1, "2007-04-02T19:18:42Z"),)
    assert paper.license is None and paper.comment is None


def test_old_style_ids_are_canonical():
    for raw, canonical in [
        ("hep-th/9504118", "hep-th/9504118"),
        ("math.GT/0309136", "math/0309136"),
    ]:
        paper = parse_snapshot_line(json.dumps({"id": raw, "title": "t", "versions": []}))
        assert (paper.id, paper.version) == (canonical, 1)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        "{",
        "[]",
        "null",
        '"0704.0001"',
        '{"id": 5, "title": "x"}',
        '{"id": "not an id", "title": "x"}',
        '{"id": "0704.0001"}',
        '{"id": "0704.0001", "title": "x", "versions": "v1"}',
        '{"id": "0704.0001", "title": "x", "authors_parsed": [[1, 2, 3]]}',
        b"\xff\xfe{}",
        b'{"id": "0704.0001", "title": "trunc',
    ],
)
def test_malformed_lines_give_none(line):
    assert parse_snapshot_line(line) is None


WRITERS = {
    "plain.jsonl": lambda path, data: path.write_bytes(data),
    "gz.jsonl.gz": lambda path, data: path.write_bytes(gzip.compress(data)),
    "bz2.jsonl.bz2": lambda path, data: path.write_bytes(bz2.compress(data)),
    "xz.jsonl.xz": lambda path, data: path.write_bytes(lzma.compress(data)),
    "zst.jsonl.zst": lambda path, data: path.write_bytes(
        # Two frames, split mid-line, as a streamed dump may have.
        zstandard.ZstdCompressor().compress(data[: len(data) // 2])
        + zstandard.ZstdCompressor().compress(data[len(data) // 2 :])
    ),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_iter_snapshot_reads_every_compression(tmp_path, lines, name):
    # Bad and blank lines mixed in are skipped.
    mixed = lines[:500] + ["", "{broken", "null"] + lines[500:]
    data = "\n".join(mixed).encode() + b"\n"
    path = tmp_path / name
    WRITERS[name](path, data)
    papers = iter_snapshot(path)
    assert inspect.isgenerator(papers)
    got = list(papers)
    assert len(got) == 1000
    assert [p.id for p in got] == [json.loads(s)["id"] for s in lines]
