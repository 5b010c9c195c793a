"""ApiClient and PoliteSession against the replay server, with a real Redis limiter."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from papermirror import keys
from papermirror.arxiv.api import ApiClient, ArxivError, ArxivUnavailable
from papermirror.arxiv.http import PoliteSession, parse_retry_after
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.embedded import free_port
from papermirror.settings import Settings
from tests.replay import ERROR_FIXTURE, ReplayServer

# Arrival times are logged by the server after the request left the client,
# and waits are measured from Redis TIME after the previous answer arrived,
# so every gap is at least the wait; 10 ms absorbs clock and thread jitter.
TOLERANCE = 0.01


@pytest.fixture
def server():
    with ReplayServer() as replay:
        yield replay


def make_client(redis_client, api_url, **overrides) -> ApiClient:
    options = {
        "arxiv_api_url": api_url,
        "arxiv_min_interval": 0.2,
        "arxiv_timeout": 2.0,
        "arxiv_retries": 2,
        "arxiv_max_backoff": 2.0,
        "contact": "tests@example.org",
        **overrides,
    }
    settings = Settings.from_env({}, **options)
    limiter = ArxivLimiter(redis_client, settings.arxiv_min_interval, lock_ttl=5.0)
    return ApiClient(settings, PoliteSession(settings, limiter))


def gaps(server) -> list[float]:
    times = [r.t for r in server.requests()]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_found_missing_and_invalid_in_one_request(redis_client, server):
    client = make_client(redis_client, server.api_url)
    ids = ["2104.12255", "hep-ex/0406020v1", "math.GT/0309136", "2601.99999", "abc", "2104.12255"]
    ids.append("0000.0000")  # well-formed for arXiv, but number 0 is never an id
    result = client.fetch(ids)
    assert sorted(result.found) == ["2104.12255", "hep-ex/0406020"]
    assert result.found["hep-ex/0406020"].authors[0].affiliations
    assert result.missing == ["math/0309136", "2601.99999"]
    assert result.invalid == ["abc", "0000.0000"]
    (request,) = server.requests()
    assert request.param("id_list") == "2104.12255,hep-ex/0406020v1,math/0309136,2601.99999"
    assert request.param("max_results") == "4"
    assert int(redis_client.get(keys.ARXIV_CALLS)) == 1


def test_headers_name_the_contact(redis_client, server):
    make_client(redis_client, server.api_url).fetch(["2104.12255"])
    headers = server.requests()[0].headers
    assert "tests@example.org" in headers["User-Agent"]
    assert headers["User-Agent"].startswith("PaperMirror/")
    assert "application/atom+xml" in headers["Accept"]


def test_only_invalid_ids_send_nothing(redis_client, server):
    result = make_client(redis_client, server.api_url).fetch(["abc", "12.34"])
    assert (result.found, result.missing, result.invalid) == ({}, [], ["abc", "12.34"])
    assert server.requests() == []


def test_more_than_100_ids_are_batched(redis_client, server):
    known = sorted(server.api.entries)
    unknown = [f"2601.{n:05d}" for n in range(1, 251 - len(known))]
    result = make_client(redis_client, server.api_url).fetch(known + unknown)
    assert sorted(result.found) == known
    assert sorted(result.missing) == sorted(unknown)
    sent = [r.param("id_list").split(",") for r in server.requests()]
    assert [len(batch) for batch in sent] == [100, 100, 50]
    assert [r.param("max_results") for r in server.requests()] == ["100", "100", "50"]
    assert min(gaps(server)) >= 0.2 - TOLERANCE
    assert result.requests == 3 and int(redis_client.get(keys.ARXIV_CALLS)) == 3


def test_error_feed_raises_arxiv_error_without_retry(redis_client, server):
    server.inject("status", status=400, body=ERROR_FIXTURE)
    with pytest.raises(ArxivError) as caught:
        make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert caught.value.status == 400 and caught.value.bad_id == "abc"
    assert "incorrect id format for abc" in str(caught.value)
    assert len(server.requests()) == 1


def test_id_arxiv_rejects_is_dropped_and_the_batch_resent(redis_client, server, fixtures_dir):
    body = (fixtures_dir / ERROR_FIXTURE).read_bytes().replace(b"abc", b"9912.12345")
    server.inject("status", status=400, body=body)
    result = make_client(redis_client, server.api_url).fetch(["2104.12255", "9912.12345"])
    assert list(result.found) == ["2104.12255"] and result.invalid == ["9912.12345"]
    assert [r.param("id_list") for r in server.requests()] == [
        "2104.12255,9912.12345",
        "2104.12255",
    ]


def test_polite_get_returns_the_400_error_feed(redis_client, server):
    session = make_client(redis_client, server.api_url).session
    response = session.polite_get(server.api_url, {"id_list": "abc"})
    assert response.status_code == 400 and b"incorrect id format for abc" in response.content
    assert len(server.requests()) == 1


def test_http_404_is_an_error_not_retried(redis_client, server):
    with pytest.raises(ArxivError) as caught:
        make_client(redis_client, server.url + "/nowhere").fetch(["2104.12255"])
    assert caught.value.status == 404 and len(server.requests()) == 1


def test_503_retry_after_is_waited_then_succeeds(redis_client, server):
    server.inject("status", status=503, retry_after=1)
    result = make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert list(result.found) == ["2104.12255"]
    assert [r.fault for r in server.requests()] == ["status", None]
    assert gaps(server)[0] >= 1.0 - TOLERANCE


def test_retry_after_binds_every_process(redis_client, server):
    server.inject("status", status=503, retry_after=1)
    with pytest.raises(ArxivUnavailable):
        make_client(redis_client, server.api_url, arxiv_retries=0).fetch(["2104.12255"])
    # Another client (as if in another process) shares the limiter through Redis.
    make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert gaps(server)[0] >= 1.0 - TOLERANCE


def test_429_without_retry_after_backs_off(redis_client, server):
    server.inject("status", status=429)
    result = make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert list(result.found) == ["2104.12255"]
    assert gaps(server)[0] >= 0.4 - TOLERANCE  # backoff: min_interval * 2


def test_429_with_http_date_retry_after(redis_client, server):
    # Three seconds ahead: HTTP dates have whole seconds and the 429 itself may arrive late
    # on a loaded machine, so the wait left is between 1 and 3 seconds, never under 1.
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    server.inject("status", status=429, headers={"Retry-After": when})
    make_client(redis_client, server.api_url, arxiv_max_backoff=5.0).fetch(["2104.12255"])
    assert gaps(server)[0] >= 1.0 - TOLERANCE


def test_retry_after_beyond_max_backoff_gives_up_at_once(redis_client, server):
    server.inject("status", status=503, retry_after=30)
    client = make_client(redis_client, server.api_url)
    start = time.monotonic()
    with pytest.raises(ArxivUnavailable, match="retry after 30s") as caught:
        client.fetch(["2104.12255"])
    # "At once": far less than the 30 s it was asked to wait.
    assert time.monotonic() - start < 10 and len(server.requests()) == 1
    assert caught.value.retry_after == 30
    # ...but everyone still honours it.
    assert client.session.limiter.defer(0) > 25


def test_5xx_is_retried(redis_client, server):
    server.inject("status", status=500, count=2)
    result = make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert list(result.found) == ["2104.12255"] and len(server.requests()) == 3


def test_slow_answer_times_out_and_is_retried(redis_client, server):
    server.inject("slow", delay=1.5)
    client = make_client(redis_client, server.api_url, arxiv_timeout=0.3)
    result = client.fetch(["2104.12255"])
    assert list(result.found) == ["2104.12255"]
    assert [r.fault for r in server.requests()] == ["slow", None]


def test_slow_answer_within_timeout_is_fine(redis_client, server):
    server.inject("slow", delay=0.3)
    result = make_client(redis_client, server.api_url, arxiv_timeout=2.0).fetch(["2104.12255"])
    assert list(result.found) == ["2104.12255"] and len(server.requests()) == 1


def test_malformed_xml_is_retried(redis_client, server):
    server.inject("malformed")
    result = make_client(redis_client, server.api_url).fetch(["2104.12255", "2601.99999"])
    assert list(result.found) == ["2104.12255"] and result.missing == ["2601.99999"]
    assert len(server.requests()) == 2


def test_malformed_xml_every_time_is_reported_not_missing(redis_client, server):
    server.inject("malformed", count=10)
    with pytest.raises(ArxivUnavailable, match="after 3 tries: unparseable") as caught:
        make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert caught.value.tries == 3 and len(server.requests()) == 3


def test_html_error_page_with_200_is_retried(redis_client, server):
    server.inject("malformed", body=b"<html><body>Rate exceeded.</body></html>")
    result = make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert list(result.found) == ["2104.12255"] and len(server.requests()) == 2


def test_dropped_connection_is_retried(redis_client, server):
    server.inject("drop")
    result = make_client(redis_client, server.api_url).fetch(["2104.12255"])
    assert list(result.found) == ["2104.12255"] and len(server.requests()) == 2


def test_connection_dropped_every_time(redis_client, server):
    server.inject("drop", count=10)
    with pytest.raises(ArxivUnavailable, match="after 2 tries: ConnectionError"):
        make_client(redis_client, server.api_url, arxiv_retries=1).fetch(["2104.12255"])
    assert len(server.requests()) == 2


def test_unreachable_host_fails_quickly(redis_client):
    url = f"http://127.0.0.1:{free_port()}/api/query"
    client = make_client(redis_client, url, arxiv_retries=1, arxiv_min_interval=0.05)
    start = time.monotonic()
    with pytest.raises(ArxivUnavailable, match=r"GET http://127\.0\.0\.1.*after 2 tries"):
        client.fetch(["2104.12255"])
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    "value, expected",
    [
        ("10", 10.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:27:30 GMT").timestamp()
    assert parse_retry_after(value, now=now) == expected


def test_two_versions_of_one_paper_in_an_answer_keep_the_newest(redis_client, server, fixtures_dir):
    # The real 1111.2011v2 entry, and the same entry relabelled v1, in one answer
    # (an id_list may name a paper in two versions); v1 comes last.
    body = (fixtures_dir / "api2016_idlist_single_1111.2011v2_doi_journalref.xml").read_text()
    start, end = body.index("<entry>"), body.index("</entry>") + len("</entry>")
    v1 = body[start:end].replace("1111.2011v2", "1111.2011v1")
    server.route("/two/query", (body[:end] + v1 + body[end:]).encode())
    client = make_client(redis_client, server.url + "/two/query")
    found = client.fetch(["1111.2011", "1111.2011v1"]).found
    assert found["1111.2011"].version == 2


def test_a_long_retry_after_is_honoured_in_full(redis_client, server):
    server.inject("status", count=1, status=503, retry_after=7200, path="/api/query")
    client = make_client(redis_client, server.api_url)
    with pytest.raises(ArxivUnavailable) as failed:
        client.session.polite_get(server.api_url, params={"id_list": "2104.12255"})
    assert failed.value.retry_after == 7200
    # Every process now waits the whole two hours before asking arXiv again.
    assert client.session.limiter.defer(0) > 7190


def test_retry_after_from_the_recorded_oai_503(redis_client, server, fixtures_dir):
    # The real flow-control answer: its headers (from the recording) say 10 s...
    nock = json.loads(
        (fixtures_dir / "raw_wrappers/oai2018_listrecords_503_then_200.nock.json").read_text()
    )
    raw = nock[0]["rawHeaders"]
    assert dict(zip(raw[::2], raw[1::2], strict=True))["Retry-After"] == "10"
    # ...and so does its body, which is all a 503 without the header leaves to read.
    body = (fixtures_dir / "oai2018_http503_retry_after_10.html").read_bytes()
    server.route("/oai", body, status=503, content_type="text/html")
    client = make_client(redis_client, server.api_url, arxiv_max_backoff=2.0)
    with pytest.raises(ArxivUnavailable) as failed:
        client.session.polite_get(server.url + "/oai", params={"verb": "Identify"})
    assert failed.value.retry_after == 10.0
    assert client.session.limiter.defer(0) > 9
