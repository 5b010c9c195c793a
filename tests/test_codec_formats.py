"""Record blobs: the current format round-trips, and blobs of every older format stay readable."""

from __future__ import annotations

import bz2

import pytest
import zstandard

from papermirror import codec
from papermirror.arxiv.feeds import parse_feed
from papermirror.records import Author, Paper, Version
from tests.conftest import FIXTURES

FEED = "rss2024_multi_archive_all_2024-11-28_1504items.xml.bz2"

RICH = Paper(
    id="hep-th/9901001",
    version=3,
    title='Ünïcode — and "quotes" \\ backslashes',
    authors=(Author("A. Person", ("CERN", "MIT")), Author("B. Person")),
    abstract="$x^2$ < y & z\n" * 20,
    categories=("hep-th", "math-ph"),
    published="1999-01-04T12:00:00Z",
    updated="2001-02-03T04:05:06Z",
    versions=(Version(1, "1999-01-04T12:00:00Z", "12kb"), Version(3, None, None)),
    comment="12 pages",
    journal_ref="Phys. Rev. D 1 (1999) 1",
    doi="10.1000/xyz",
    license="http://creativecommons.org/licenses/by/4.0/",
    source="api",
)


def format1_blob(p: Paper) -> bytes:
    """A blob as the first release wrote it: zstd frame, 32 KB dictionary, level 3."""
    d = zstandard.ZstdCompressionDict(codec.DICT_PATH.read_bytes())
    c = zstandard.ZstdCompressor(dict_data=d, level=3, write_content_size=True)
    return bytes((codec.FORMAT_ZSTD_DICT,)) + c.compress(codec.serialize(p))


def feed_papers() -> list[Paper]:
    return [a.paper for a in parse_feed(bz2.open(FIXTURES / FEED).read()).items]


def test_current_format_round_trips_and_is_format_2():
    blob = codec.encode(RICH)
    assert blob[0] == codec.FORMAT_ZSTD_DICT2
    assert codec.decode(blob) == RICH
    assert codec.decode(codec.encode_serialized(codec.serialize(RICH))) == RICH


def test_format_1_blobs_stay_readable():
    for p in [RICH, *feed_papers()[:200]]:
        assert codec.decode(format1_blob(p)) == p


def test_format_2_is_smaller_on_the_real_day():
    papers = feed_papers()
    old = sum(len(format1_blob(p)) for p in papers)
    new = sum(len(codec.encode(p)) for p in papers)
    assert new < 0.85 * old


@pytest.mark.parametrize("blob", [b"", b"\x00abc", b"\x07" + codec.encode(RICH)[1:]])
def test_unknown_formats_are_refused(blob):
    with pytest.raises(ValueError):
        codec.decode(blob)
