"""Train the zstd dictionary that papermirror.codec compresses records with.

The dictionary is trained on the 1,000 real records of the 2014 arXivRaw OAI page
in tests/fixtures/arxiv, encoded exactly as the codec encodes records. The store
benchmark measures on a different real data set (the 2024 RSS feed), so the
figure it prints is not flattered by training on the data it measures.

The current format (2) uses a 256 KB dictionary: at level 9 it makes the
2024 feed's records 10% smaller than the first 32 KB one (records.zdict, kept
so format-1 blobs stay readable). A new dictionary needs a new format byte in
papermirror/codec.py.

Usage: python scripts/train_zdict.py [FIXTURES_DIR]   (writes papermirror/records2.zdict)
"""

from __future__ import annotations

import gzip
import html
import re
import sys
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from papermirror import codec  # noqa: E402
from papermirror.records import Author, Paper, Version  # noqa: E402

SOURCE = "oai2014_listrecords_arXivRaw_resumption_page96001_1000records.xml.gz"
DICT_SIZE = 256 * 1024


def _tag(name: str, text: str) -> str | None:
    m = re.search(rf"<{name}>(.*?)</{name}>", text, re.S)
    return html.unescape(m.group(1)).strip() if m else None


def samples(fixtures: Path) -> list[bytes]:
    """The training samples: each OAI record as the codec would store it, uncompressed."""
    raw = gzip.open(fixtures / SOURCE).read().decode()
    out = []
    for rec in re.findall(r"<arXivRaw.*?</arXivRaw>", raw, re.S):
        dates = re.findall(r"<date>(.*?)</date>", rec)
        paper = Paper(
            id=_tag("id", rec) or "",
            version=max(len(dates), 1),
            title=" ".join((_tag("title", rec) or "").split()),
            authors=tuple(Author(a.strip()) for a in (_tag("authors", rec) or "").split(",")),
            abstract=_tag("abstract", rec) or "",
            categories=tuple((_tag("categories", rec) or "").split()),
            published="2008-11-24T12:00:00Z",
            updated="2008-11-24T12:00:00Z",
            versions=tuple(Version(i + 1, "2008-11-24T12:00:00Z") for i in range(len(dates))),
            comment=_tag("comments", rec),
            journal_ref=_tag("journal-ref", rec),
            doi=_tag("doi", rec),
            license=_tag("license", rec),
            source="oai",
        )
        out.append(codec.serialize(paper))
    return out


def main() -> None:
    """Train and write the dictionary."""
    fixtures = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/fixtures/arxiv"
    # Deterministic (one thread, fixed parameters), so a re-run writes the same bytes.
    data = zstandard.train_dictionary(DICT_SIZE, samples(fixtures), level=19, threads=1)
    codec.DICT2_PATH.write_bytes(data.as_bytes())
    print(f"wrote {codec.DICT2_PATH} ({len(data.as_bytes())} bytes, dict id {data.dict_id()})")


if __name__ == "__main__":
    main()
