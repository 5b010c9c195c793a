"""What a paper page says beyond the record: announcement day, history fill, version checks.

A paper known only from the daily feed has no dates and one version. Its page
shows the day the feed announced it, and its first view queues the normal
batched API fetch, which brings the submission date and every version's date.
A version newer than the stored one is asked of arXiv once (server.lookup); when
that check is over and arXiv still has fewer versions, the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from papermirror import keys
from papermirror.records import Paper
from server.lookup import REFRESH_TTL, request_fetch
from server.services import services

# Days of a category's listings searched for a paper's announcement (a week of weekdays).
ANNOUNCE_LOOKBACK = 7


@dataclass
class PageInfo:
    """Per paper: announcement day (YYYY-MM-DD or None) and whether arXiv is being asked."""

    announced: str | None = None
    checking: bool = False  # a fetch for this paper is queued or under way


def announced_day(paper: Paper) -> str | None:
    """The latest day a stored daily listing announced this paper (its current version)."""
    r = services().redis
    for category in paper.categories[:3]:
        days = r.zrevrange(keys.listing_dates(category), 0, ANNOUNCE_LOOKBACK - 1)
        if not days:
            continue
        days = [d.decode() if isinstance(d, bytes) else d for d in days]
        raws = r.mget([keys.listing(category, d) for d in days])
        needle = f"{paper.id}:".encode()
        for day, raw in zip(days, raws, strict=True):
            if raw and (raw.startswith(needle) or b"," + needle in raw):
                return day
    return None


def page_info(paper: Paper, wanted_version: int | None) -> PageInfo:
    """Announcement day and fetch state for one found paper; queues the history fill."""
    svc = services()
    info = PageInfo()
    if not paper.published:  # from the feed only: no dates, one version
        info.announced = announced_day(paper)
        # Once per REFRESH_TTL at most, whatever arXiv answers.
        if svc.redis.set(keys.refresh(paper.id), 1, nx=True, ex=REFRESH_TTL):
            request_fetch([paper.id])
    if wanted_version and wanted_version > paper.version or not paper.published:
        since = svc.store.pending_since([paper.id])[0]
        info.checking = since is not None
    return info
