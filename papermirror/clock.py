"""arXiv's announcement clock: US Eastern days, and when the daily job runs and ran.

arXiv announces at 20:00 US Eastern, Sunday to Thursday, and rebuilds its feeds
at midnight Eastern, so the daily job runs on weekday mornings, Eastern time.
Pure functions of an aware ``datetime``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
# The scheduled run's own time to finish before a catch-up counts it as missed.
CATCH_UP_GRACE = timedelta(minutes=15)


def expected_date(now: datetime) -> str:
    """The announcement day a feed should show at ``now``: the US Eastern calendar date."""
    if now.tzinfo is None:
        raise ValueError("expected_date needs an aware datetime")
    return now.astimezone(EASTERN).date().isoformat()


def daily_cron(daily_time: str) -> str:
    """The cron expression of the daily job, Monday to Friday: ``"00:30"`` -> ``"30 0 * * 1-5"``.

    The fields are US Eastern local time (the scheduler runs on Eastern time).
    """
    hour, minute = _hour_minute(daily_time)
    return f"{minute} {hour} * * 1-5"


def last_scheduled(now: datetime, daily_time: str) -> datetime:
    """The latest weekday run time of the daily job (US Eastern) at least a grace period ago."""
    eastern = (now - CATCH_UP_GRACE).astimezone(EASTERN)
    hour, minute = _hour_minute(daily_time)
    day = eastern.date()
    if (eastern.hour, eastern.minute) < (hour, minute):
        day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN)


def missed_terms(
    terms: Sequence[str], outcomes: dict[str, dict], now: datetime, daily_time: str
) -> list[str]:
    """Followed terms not fetched since the daily job's last scheduled run (see
    :func:`last_scheduled`): the machine was asleep or down then, or the term was never
    fetched (a fresh install, a newly followed category), which is fetched at once.
    """
    since = last_scheduled(now, daily_time).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [t for t in terms if outcomes.get(t, {}).get("at", "") < since]


def _hour_minute(daily_time: str) -> tuple[int, int]:
    hours, sep, minutes = daily_time.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"daily time {daily_time!r} is not HH:MM")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"daily time {daily_time!r} is not a time of day")
    return h, m
