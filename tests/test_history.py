"""History: the OAI-PMH harvest (resumption, flow control) and the snapshot import."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma

import pytest
import zstandard

from papermirror import buckets, codec, keys
from papermirror.arxiv.harvest import HarvestError, harvest
from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.arxiv.snapshot import parse_snapshot_line
from papermirror.history import encode_line, import_snapshot
from papermirror.records import Paper, Version
from papermirror.store import Store
from tests.replay import Reply, load_fixture
from tests.stack import stack_settings
from tests.test_snapshot import snapshot_records

RAW_PAGE = "oai2014_listrecords_arXivRaw_resumption_page96001_1000records.xml.gz"
RAW_TOKEN = "496549|96001"
LAST_PAGE = "oai2018_listrecords_arXiv_from2015-01-01_until2015-01-03.xml"
CS_PAGE = "oai2016_listrecords_arXiv_set_cs_from2015-01-16_until2015-01-18.xml"
NO_RECORDS = "oai2016_error_noRecordsMatch_set_physics-hep-lat.xml"
OAI_TYPE = {"Content-Type": "text/xml; charset=utf-8"}

# Lines the reference parser finds odd, and ones it must refuse.
EDGE_RECORDS = [
    {"id": "2101.00001", "title": " A\n title ", "authors": "A. One and B. Two (MIT, CERN)"},
    {
        "id": "2101.00002",
        "title": "T",
        "authors_parsed": [["Smith", "  ", ""], ["Doe", "J.", "Jr"]],
    },
    {
        "id": "2101.00003",
        "title": "T",
        "authors_parsed": [['M\\"uller', "A."], ["X", "Y", "", "Inst"]],
    },
    {"id": "2101.00004", "title": "T", "authors_parsed": [["", "", ""], ["Lee", None, ""]]},
    {
        "id": "2101.00005",
        "title": "T",
        "versions": [
            {"version": "v10", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
            {"version": "v2"},
            {"version": "x"},
        ],
    },
    {
        "id": "math.GT/0309136",
        "title": "Old",
        "abstract": "  One\n two.\n  Three\n",
        "license": " a  b ",
    },
    {"id": "2101.00006", "title": "T", "versions": [{"version": "v99999999999999999999"}]},
    {"id": "2101.00007", "title": "\ud800 lone surrogate"},
    {"id": "2101.00008", "title": "T", "authors_parsed": [[5, "A", ""]]},
    {"id": "not an id", "title": "T"},
    {"id": 2101.00009, "title": "T"},
    {"id": "2101.00010"},
    ["a", "list"],
]


@pytest.fixture(scope="module")
def snapshot_lines(fixtures_dir) -> list[bytes]:
    """Snapshot-format lines made from the real OAI pages, plus the edge cases."""
    records = snapshot_records(gzip.decompress((fixtures_dir / RAW_PAGE).read_bytes()))
    records += snapshot_records((fixtures_dir / CS_PAGE).read_bytes())
    lines = [json.dumps(r).encode() for r in records + EDGE_RECORDS]
    return lines + [b"", b"   ", b"not json", b'{"id": "2101.0001', b"null"]


@pytest.fixture
def oai_settings(redis_url, replay):
    replay.clear()
    return stack_settings(redis_url, replay.api_url, arxiv_oai_url=replay.url + "/oai")


def run_harvest(settings, client, **kw):
    session = PoliteSession(settings, ArxivLimiter(client, settings.arxiv_min_interval))
    return harvest(client, session, settings.arxiv_oai_url, "2014-01-01", "2014-01-16", **kw)


def oai_handler(request):
    """ListRecords over two real pages, joined by the first page's real resumption token."""
    token = request.param("resumptionToken")
    if token is None:
        assert request.param("verb") == "ListRecords" and request.param("from") == "2014-01-01"
        return Reply(200, load_fixture(RAW_PAGE), OAI_TYPE)
    if token == RAW_TOKEN:
        assert request.param("metadataPrefix") is None
        return Reply(200, load_fixture(LAST_PAGE), OAI_TYPE)
    bad = load_fixture(NO_RECORDS).replace(b"noRecordsMatch", b"badResumptionToken")
    return Reply(200, bad, OAI_TYPE)


def test_harvest_follows_tokens_and_waits_out_flow_control(oai_settings, redis_client, replay):
    replay.route("/oai", oai_handler)
    replay.inject(
        "status",
        1,
        path="/oai",
        status=503,
        headers={"Retry-After": "1"},
        body="oai2018_http503_retry_after_10.html",
    )
    report = run_harvest(oai_settings, redis_client, set_spec="cs")
    assert report.pages == 2 and report.papers == 1002
    assert report.complete_list_size == 907096
    calls = replay.requests("/oai")
    assert [c.fault for c in calls] == ["status", None, None]
    assert calls[0].param("set") == "cs" and calls[0].param("metadataPrefix") == "arXivRaw"
    assert calls[1].t - calls[0].t >= 1.0, "Retry-After was not honoured"
    assert int(redis_client.get(keys.ARXIV_CALLS)) == 3
    many = Store(redis_client).get("0811.3693")
    assert many.version == 18 and len(many.versions) == 18
    # Running it again changes nothing.
    stored = sorted(buckets.ids(redis_client))
    before = buckets.get_many(redis_client, stored)
    run_harvest(oai_settings, redis_client)
    assert sorted(buckets.ids(redis_client)) == stored
    assert buckets.get_many(redis_client, stored) == before


def test_harvest_empty_window_and_errors(oai_settings, redis_client, replay):
    replay.route("/oai", NO_RECORDS)
    report = run_harvest(oai_settings, redis_client)
    assert report.papers == 0 and report.pages == 1
    bad = load_fixture(NO_RECORDS).replace(b"noRecordsMatch", b"badArgument")
    replay.route("/oai", bad, content_type="text/xml")
    with pytest.raises(HarvestError, match="badArgument"):
        run_harvest(oai_settings, redis_client)


def test_harvest_never_downgrades(oai_settings, redis_client, replay):
    store = Store(redis_client)
    newer = Paper("0811.3693", 19, "A newer title", versions=(Version(19),), source="api")
    store.upsert(newer)
    replay.route("/oai", oai_handler)
    run_harvest(oai_settings, redis_client)
    kept = store.get("0811.3693")
    assert kept.version == 19 and kept.title == "A newer title"


def test_fast_lines_match_the_reference_parser(snapshot_lines):
    for line in snapshot_lines:
        reference = parse_snapshot_line(line)
        try:
            if reference is not None:
                codec.serialize(reference)
        except UnicodeEncodeError:
            reference = None  # the store could not hold it either
        try:
            if reference is not None:
                json.loads(codec.serialize(reference))
                if any(v.number >= 2**63 for v in reference.versions):
                    reference = None  # beyond what a stored record can hold
        except ValueError:
            reference = None
        encoded = encode_line(line)
        if reference is None:
            assert encoded is None, line
        else:
            assert encoded is not None, line
            assert encoded[0] == reference.id
            assert codec.decode(encoded[1]) == reference, line


def write_snapshot(path, lines: list[bytes]) -> None:
    data = b"\n".join(lines) + b"\n"
    openers = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
    compress = openers.get(path.suffix)
    if path.suffix == ".zst":
        compress = zstandard.ZstdCompressor().compress
    path.write_bytes(compress(data) if compress else data)


@pytest.mark.parametrize(
    ("suffix", "workers"), [(".jsonl", 2), (".gz", 0), (".bz2", 1), (".xz", 2), (".zst", 2)]
)
def test_import_reads_every_format_and_is_safe_to_rerun(
    tmp_path, redis_client, snapshot_lines, suffix, workers
):
    path = tmp_path / f"snapshot{suffix}"
    write_snapshot(path, snapshot_lines)
    valid = {}
    for line in snapshot_lines:
        if (encoded := encode_line(line)) is not None:
            valid[encoded[0]] = line
    report = import_snapshot(redis_client, path, workers=workers, block_size=64 * 1024)
    assert report.added == len(valid) and report.updated == 0
    assert report.bad == report.lines - len(valid)
    store = Store(redis_client)
    for paper_id, line in list(valid.items())[::50]:
        assert store.get(paper_id) == parse_snapshot_line(line)
    again = import_snapshot(redis_client, path, workers=workers, block_size=64 * 1024)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(valid))


def test_import_never_touches_newer_data(tmp_path, redis_client, snapshot_lines):
    line = snapshot_lines[0]
    old = parse_snapshot_line(line)
    store = Store(redis_client)
    newer = Paper(old.id, old.version + 1, "Newer", versions=(Version(old.version + 1),))
    store.upsert(newer)
    path = tmp_path / "one.jsonl"
    write_snapshot(path, [line])
    report = import_snapshot(redis_client, path, workers=0)
    assert report.updated == 1
    kept = store.get(old.id)
    assert kept.version == old.version + 1 and kept.title == "Newer"
    assert kept.abstract == old.abstract, "gaps are filled from the older record"


def test_a_client_error_is_not_retried(oai_settings, redis_client, replay):
    replay.route("/oai", b"Not Found", status=404, content_type="text/plain")
    before = len(replay.requests("/oai"))
    with pytest.raises(HarvestError, match="404"):
        run_harvest(oai_settings, redis_client)
    assert len(replay.requests("/oai")) - before == 1
