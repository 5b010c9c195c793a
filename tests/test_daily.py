"""The daily fetch against the replay arXiv: real feeds, empty days, errors, stale feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from papermirror import keys
from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.categories import parse_spec
from papermirror.clock import daily_cron, expected_date, last_scheduled, missed_terms
from papermirror.daily import fetch_daily, follow_terms, plan_requests
from papermirror.listings import Listings
from papermirror.store import Store
from tests.replay import load_fixture
from tests.stack import stack_settings

FOUR = "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml"
FOUR_CATS = ("cs.LG", "cs.AI", "cs.CL", "stat.ML")
FOUR_PATH = "/rss/cs.LG+cs.AI+cs.CL+stat.ML"
FOUR_DAY = "2026-09-24"


@pytest.fixture
def run(redis_url, redis_client, replay):
    """Call fetch_daily against the replay server with the given categories."""
    replay.clear()

    def run(categories, expect=None, **overrides):
        settings = stack_settings(
            redis_url, replay.api_url, arxiv_rss_url=replay.url + "/rss/", **overrides
        )
        session = PoliteSession(settings, ArxivLimiter(redis_client, settings.arxiv_min_interval))
        return fetch_daily(settings, redis_client, session, categories, expect)

    return run


def snapshot(client) -> dict:
    """Every listing and paper key with its value, to compare runs."""
    names = sorted(client.scan_iter(match=f"{keys.PREFIX}[lp]*"))
    return {n: client.dump(n) for n in names}


def test_one_request_covers_every_category(run, redis_client, replay):
    replay.route(FOUR_PATH, FOUR)
    report = run(FOUR_CATS, expect=FOUR_DAY)
    assert report.requests == 1 and len(replay.requests("/rss/")) == 1
    assert [o.status for o in report.outcomes] == ["ok"] * 4
    assert {o.date for o in report.outcomes} == {FOUR_DAY}
    store = Store(redis_client)
    cross = store.get("2205.06398")
    assert cross.doi and cross.license and len(cross.categories) > 1
    listings = Listings(redis_client)
    day = {e.id: e.announce_type for e in listings.day(parse_spec("cs.LG"), FOUR_DAY)}
    assert day["2009.13987"] == "replace"
    # Every request went through the global limiter.
    assert int(redis_client.get(keys.ARXIV_CALLS)) == 1


def test_rerunning_a_day_changes_nothing(run, redis_client, replay):
    replay.route(FOUR_PATH, FOUR)
    run(FOUR_CATS)
    before = snapshot(redis_client)
    assert before
    run(FOUR_CATS)
    assert snapshot(redis_client) == before


def test_empty_channel_is_a_day_without_announcements(run, redis_client, replay):
    replay.route("/rss/cs.AI", "rss2024_empty_channel_test_archive.xml")
    report = run(["cs.AI"], expect="2024-11-28")
    [outcome] = report.outcomes
    assert outcome.status == "empty" and outcome.error is None and not outcome.retry
    assert report.ok and not list(redis_client.scan_iter(match="pm:l:*"))


def test_feed_error_is_reported_and_keeps_what_is_stored(run, redis_client, replay):
    replay.route(FOUR_PATH, FOUR)
    run(FOUR_CATS)
    before = snapshot(redis_client)
    replay.route(FOUR_PATH, "rss2024_error_bad_archive_astroph.xml")
    report = run(FOUR_CATS)
    assert {o.status for o in report.outcomes} == {"error"}
    assert "Feed error for query" in report.outcomes[0].error
    assert "Bad archive" in report.outcomes[0].error
    assert not report.outcomes[0].retry
    assert snapshot(redis_client) == before
    status = Listings(redis_client).outcomes(["cs.AI"])["cs.AI"]
    assert status["status"] == "error" and "Feed error" in status["error"]


def test_unreachable_arxiv_never_erases(run, redis_client, replay):
    replay.route(FOUR_PATH, FOUR)
    run(FOUR_CATS)
    before = snapshot(redis_client)
    replay.inject("status", 10, path="/rss/", status=500)
    report = run(FOUR_CATS)
    assert {o.status for o in report.outcomes} == {"error"} and report.outcomes[0].retry
    assert snapshot(redis_client) == before
    replay.clear()
    replay.inject("malformed", 10, path="/rss/")
    report = run(FOUR_CATS)
    assert {o.status for o in report.outcomes} == {"error"}
    assert snapshot(redis_client) == before


def test_a_feed_still_showing_yesterday_is_stale(run, replay):
    body = load_fixture(FOUR).replace(b"Thu, 24 Sep 2026", b"Wed, 23 Sep 2026")
    replay.route(FOUR_PATH, body, content_type="application/rss+xml")
    report = run(FOUR_CATS, expect=FOUR_DAY)
    assert {o.status for o in report.outcomes} == {"stale"}
    assert report.retry_terms == list(FOUR_CATS)
    assert "still shows 2026-09-23" in report.outcomes[0].error


def test_atom_and_old_rdf_feeds(run, redis_client, replay):
    replay.route("/rss/cs.LG", "atom2026_cs.LG_trimmed3entries_abridged.xml")
    report = run(["cs.LG"])
    assert report.ok and report.outcomes[0].date == "2026-09-25"
    assert sum(report.outcomes[0].counts.values()) == 3
    replay.route("/rss/hep-ex", "rss_old_rdf_hep-ex_2018-05-23_abridged3items.xml")
    report = run(["hep-ex"])
    [outcome] = report.outcomes
    assert outcome.status == "ok" and outcome.date == "2018-05-23"
    day = Listings(redis_client).day(parse_spec("hep-ex"), "2018-05-23")
    assert sorted(e.announce_type for e in day) == ["cross", "new", "replace-cross"]


def test_bad_category_names_never_reach_arxiv(run, replay):
    replay.route("/rss/cs.AI", "rss2024_empty_channel_test_archive.xml")
    report = run(["astroph", "cs.AI"])
    assert [r.path for r in replay.requests("/rss/")] == ["/rss/cs.AI"]
    bad = report.outcomes[0]
    assert bad.term == "astroph" and bad.status == "error" and "not an arXiv category" in bad.error


def test_follow_terms_and_request_plan():
    terms, invalid = follow_terms(["CS.ai", "cs", "stat.ML", "stat.ml", "nope", " "])
    assert terms == ["cs", "stat.ML"] and invalid == ["nope"]
    base = "https://rss.arxiv.org/rss/"
    everything = [
        "astro-ph",
        "cond-mat",
        "physics",
        "quant-ph",
        "math",
        "cs",
        "econ",
        "eess",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math-ph",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "q-bio",
        "q-fin",
        "stat",
    ]
    assert plan_requests(everything, base) == [everything]
    from papermirror.categories import CATEGORIES

    groups = plan_requests(sorted(CATEGORIES), base, max_url=300)
    assert sum(len(g) for g in groups) == len(CATEGORIES)
    assert all(len(base + "+".join(g)) <= 300 for g in groups)


@pytest.mark.parametrize(
    ("utc", "day"),
    [
        ("2026-03-06T05:30:00", "2026-03-06"),  # 00:30 EST
        ("2026-03-06T04:30:00", "2026-03-05"),  # still Thursday in New York
        ("2026-03-09T04:30:00", "2026-03-09"),  # 00:30 EDT, after the switch
        ("2026-11-02T04:30:00", "2026-11-01"),  # 23:30 EST, after the switch back
    ],
)
def test_expected_date_is_us_eastern(utc, day):
    assert expected_date(datetime.fromisoformat(utc).replace(tzinfo=UTC)) == day


def test_daily_cron():
    assert daily_cron("00:30") == "30 0 * * 1-5"
    assert daily_cron("7:05") == "5 7 * * 1-5"
    for bad in ("24:00", "noon", "12", "1:60"):
        with pytest.raises(ValueError):
            daily_cron(bad)


def test_missed_runs_are_caught_up():
    def at(iso):
        return datetime.fromisoformat(iso).replace(tzinfo=UTC)

    ran = {"cs.AI": {"at": "2026-03-06T05:30:04Z"}, "cs.CL": {"at": "2026-03-05T05:30:02Z"}}
    terms = ["cs.AI", "cs.CL", "stat.ML"]
    # Friday 01:00 EST: cs.AI ran at 00:30; cs.CL last ran yesterday; stat.ML never.
    assert missed_terms(terms, ran, at("2026-03-06T06:00:00"), "00:30") == ["cs.CL", "stat.ML"]
    # Within the grace period or before the time, Thursday's run counts: cs.CL had it.
    # A term never fetched (stat.ML) is fetched at once, whatever the time.
    assert missed_terms(terms, ran, at("2026-03-06T05:40:00"), "00:30") == ["stat.ML"]
    assert missed_terms(terms, ran, at("2026-03-06T05:10:00"), "00:30") == ["stat.ML"]
    # Saturday: Friday's run is the last one; a mirror that was down then catches up.
    assert missed_terms(terms, ran, at("2026-03-07T12:00:00"), "00:30") == ["cs.CL", "stat.ML"]
    # Monday before 00:30 EDT: Friday's run is still the last one.
    assert missed_terms(terms, ran, at("2026-03-09T04:00:00"), "00:30") == ["cs.CL", "stat.ML"]
    fresh = terms  # a new install fetches everything at once, even on a Sunday
    assert missed_terms(terms, {}, at("2026-03-08T12:00:00"), "00:30") == fresh


def test_last_scheduled_run():
    def at(iso):
        return datetime.fromisoformat(iso).replace(tzinfo=UTC)

    def eastern(iso):
        return last_scheduled(at(iso), "00:30").isoformat()

    assert eastern("2026-03-06T06:00:00") == "2026-03-06T00:30:00-05:00"  # Friday, after
    assert eastern("2026-03-06T05:40:00") == "2026-03-05T00:30:00-05:00"  # grace period
    assert eastern("2026-03-08T12:00:00") == "2026-03-06T00:30:00-05:00"  # Sunday
    assert eastern("2026-03-10T05:00:00") == "2026-03-10T00:30:00-04:00"  # after DST began
