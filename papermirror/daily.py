"""The daily fetch: the followed categories' announcement feeds, stored as papers and listings.

arXiv announces at 20:00 US Eastern, Sunday to Thursday, and rebuilds its RSS
feeds at midnight Eastern, so a feed fetched on a weekday shows that day's
date in its ``pubDate``. One request covers as many followed terms as fit in
one URL (``cs.AI+cs.CL+stat.ML``), through the global limiter. For each
feed:

* a feed with items dated as expected: the papers are upserted, then each
  covered category's listing of the day is written whole (:mod:`listings`);
* an empty channel: a normal day without announcements (weekend, holiday);
* a date older than expected: arXiv has not rebuilt the feed yet ("stale"):
  what it shows is stored, and the caller should try again later;
* a "Feed error" channel, an HTTP error or an unreachable arXiv: reported,
  and nothing already stored is touched.

Every followed term gets an outcome (time, status, counts, error), kept in
Redis for the home page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import redis
import requests

from papermirror import listings as lst
from papermirror import metrics
from papermirror.arxiv.feeds import Announcement, Feed, feed_url, parse_feed
from papermirror.arxiv.http import ArxivUnavailable, PoliteSession
from papermirror.categories import follow_terms, parse_spec
from papermirror.listings import Entry, Listings
from papermirror.search.announce import record_announced
from papermirror.settings import Settings
from papermirror.store import Store

log = logging.getLogger(__name__)


# arXiv serves long multi-archive queries (all 20 archives fit in one); stay
# well under the 2,000 characters that proxies commonly accept.
MAX_URL = 1800
UPSERT_BATCH = 500  # papers per WATCH transaction: small enough to rarely conflict
# A paper's first announcement: as new in its primary category or crossed into another.
NEW_KINDS = ("new", "cross")


@dataclass
class Outcome:
    """How one followed term fared in one fetch.

    ``status`` is ``ok``, ``empty`` (no announcement that day), ``stale`` (the
    feed still shows an older day) or ``error``. ``retry`` says whether trying
    again later may help.
    """

    term: str
    status: str
    at: str
    date: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    url: str = ""
    attempt: int = 1
    retry: bool = False

    def to_dict(self) -> dict:
        """JSON-ready form, as stored for the home page."""
        return asdict(self)


@dataclass
class DailyReport:
    """What one run of the daily fetch did."""

    outcomes: list[Outcome] = field(default_factory=list)
    requests: int = 0
    papers: int = 0

    @property
    def retry_terms(self) -> list[str]:
        """Terms worth fetching again later (stale feed, arXiv unreachable)."""
        return [o.term for o in self.outcomes if o.retry]

    @property
    def ok(self) -> bool:
        """Whether every term ended ``ok`` or ``empty``."""
        return all(o.status in ("ok", "empty") for o in self.outcomes)

    def to_dict(self) -> dict:
        """JSON-ready summary (the RQ job's result)."""
        return {
            "requests": self.requests,
            "papers": self.papers,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


def plan_requests(terms: Sequence[str], base: str, max_url: int = MAX_URL) -> list[list[str]]:
    """Group terms into as few feed requests as URLs of at most ``max_url`` characters allow."""
    groups: list[list[str]] = []
    for term in terms:
        if groups and len(feed_url(base, [*groups[-1], term])) <= max_url:
            groups[-1].append(term)
        else:
            groups.append([term])
    return groups


def day_listings(feed: Feed, terms: Sequence[str]) -> dict[str, list[Entry]]:
    """Each category the request covers -> its listing of the feed's day, in feed order.

    The feed's types are relative to the whole query; per category, a paper is
    ``new``/``replace`` in its primary category and a cross-list elsewhere. Old
    RDF feeds list only one category per item, so their own types are kept.
    """
    covered = lst.expand(terms)
    out: dict[str, list[Entry]] = {c: [] for c in covered}
    lowered = {c.lower(): c for c in covered}
    for item in feed.items:
        if feed.format == "rss10":
            for category in _rdf_categories(item, lowered, terms):
                out[category].append(Entry(item.paper.id, item.announce_type, item.version))
            continue
        replaced = item.announce_type.startswith("replace")
        for i, name in enumerate(item.paper.categories):
            category = lowered.get(name.lower())
            if category is None:
                continue
            if i == 0:
                kind = "replace" if replaced else "new"
            else:
                kind = "replace-cross" if replaced else "cross"
            out[category].append(Entry(item.paper.id, kind, item.version))
    return out


def _rdf_categories(item: Announcement, lowered: dict[str, str], terms: Sequence[str]):
    listed = item.paper.extra.get("listing_category", "")
    if listed.lower() in lowered:
        return [lowered[listed.lower()]]
    return [lowered[t.lower()] for t in terms if t.lower() in lowered][:1]


def term_counts(term: str, listings: dict[str, list[Entry]]) -> dict[str, int]:
    """Section counts of one followed term's page for the day just fetched."""
    spec = parse_spec(term)
    wanted = set(lst.expand(spec.include)) if spec else set()
    return lst.counts(lst.combine({c: e for c, e in listings.items() if c in wanted}))


def fetch_daily(
    settings: Settings,
    client: redis.Redis,
    session: PoliteSession,
    categories: Iterable[str] | None = None,
    expect: str | None = None,
    attempt: int = 1,
    now: datetime | None = None,
) -> DailyReport:
    """Fetch, parse and store the feeds of ``categories`` (default: the followed ones).

    ``expect`` is the announcement day the feeds should show (YYYY-MM-DD), or
    None to take whatever they show. Records every term's outcome and returns
    the report; never raises for arXiv's failures.
    """
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    terms, invalid = follow_terms(settings.categories if categories is None else categories)
    report = DailyReport()
    for name in invalid:
        report.outcomes.append(
            Outcome(name, "error", stamp, error=f"{name!r} is not an arXiv category or archive")
        )
    store, listings = Store(client), Listings(client)
    for group in plan_requests(terms, settings.arxiv_rss_url):
        url = feed_url(settings.arxiv_rss_url, group)
        report.requests += 1
        base = dict(at=stamp, url=url, attempt=attempt)
        try:
            feed = _get_feed(session, url)
        except (ArxivUnavailable, FeedUnavailable) as exc:
            log.warning("feed %s failed: %s", url, exc)
            report.outcomes += [
                Outcome(t, "error", error=str(exc), retry=True, **base) for t in group
            ]
            continue
        if feed.error:
            # arXiv's error channel names a bad query: retrying cannot help.
            retry = not feed.error.startswith("Feed error")
            report.outcomes += [
                Outcome(t, "error", date=feed.date, error=feed.error, retry=retry, **base)
                for t in group
            ]
            continue
        if feed.items and not feed.date:
            error = "the feed carries no announcement date (pubDate)"
            report.outcomes += [Outcome(t, "error", error=error, **base) for t in group]
            continue
        stale = bool(expect and feed.date and feed.date < expect)
        day = store_day(store, listings, feed, group)
        if day:
            report.papers += len(feed.items)
        for t in group:
            status = "stale" if stale else "empty" if feed.empty else "ok"
            error = f"the feed still shows {feed.date}, not {expect}" if stale else None
            report.outcomes.append(
                Outcome(
                    t,
                    status,
                    date=feed.date,
                    counts=term_counts(t, day),
                    error=error,
                    retry=stale,
                    **base,
                )
            )
    listings.record_outcomes(o.to_dict() for o in report.outcomes)
    metrics.feed_outcomes(client, report.outcomes)
    return report


def store_day(
    store: Store, listings: Listings, feed: Feed, terms: Sequence[str]
) -> dict[str, list[Entry]]:
    """Upsert a feed's papers, then write each covered category's listing of its day.

    Returns the listings written ({} for an empty or undated feed, which writes nothing).
    """
    if not (feed.items and feed.date):
        return {}
    day = day_listings(feed, terms)
    papers = [item.paper for item in feed.items]
    # Search dates these papers by the feed's day until their records have dates.
    new = (i.paper.id for i in feed.items if i.version == 1 and i.announce_type in NEW_KINDS)
    record_announced(store.redis, feed.date, new)
    for i in range(0, len(papers), UPSERT_BATCH):
        store.upsert_many(papers[i : i + UPSERT_BATCH])
    listings.write_day(feed.date, day)
    return day


class FeedUnavailable(Exception):
    """arXiv answered the feed request with an HTTP error."""


def _get_feed(session: PoliteSession, url: str) -> Feed:
    parsed: list[Feed] = []

    def check(response: requests.Response) -> str | None:
        # A truncated download is worth another try (through the limiter);
        # arXiv's own "Feed error" channel is a valid answer.
        if response.status_code != 200:
            return None
        feed = parse_feed(response.content)
        if feed.error and not feed.error.startswith("Feed error"):
            return feed.error
        parsed.append(feed)
        return None

    response = session.polite_get(url, check=check)
    if response.status_code != 200:
        raise FeedUnavailable(f"GET {url}: HTTP {response.status_code}")
    return parsed[-1]
