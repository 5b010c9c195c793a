"""Listings on demand: any category works, followed or not.

A reader who opens the listing of a category the settings do not follow (``/arxiv/cs.CR``)
records a visit; when the mirror holds no current listing for it, one feed fetch is queued
(one at a time per category: later visits while it is queued or running join it). The
fetch goes through the daily fetch's code and the global limiter like any other.

A category visited in the last ``follow_visited_days`` days is followed automatically: the
daily job and its catch-up fetch it with the configured ones (:func:`followed_terms`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import lru_cache

import redis

from papermirror import keys
from papermirror.categories import Spec, follow_terms
from papermirror.listings import Listings, archive_of
from papermirror.settings import Settings

# How long a claim on a term's fetch lasts: the job clears it when done; this only bounds
# a claim whose job was lost. After a failed fetch, visits wait RETRY_AFTER to try again.
CLAIM_TTL = 600
RETRY_AFTER = 60
# A term fetched less than this long ago is not fetched again for a visit.
RECENT = 3600
DAY = 86400


def configured(settings: Settings, term: str) -> bool:
    """Whether the settings' own list covers ``term`` (itself, or its whole archive)."""
    followed = _configured_terms(tuple(settings.categories))
    return term in followed or archive_of(term) in followed


@lru_cache(maxsize=8)
def _configured_terms(categories: tuple[str, ...]) -> frozenset[str]:
    # Parsed once per settings value: every listing request of a spec asks.
    return frozenset(follow_terms(categories)[0])


def visited_terms(client: redis.Redis, days: int, now: float | None = None) -> list[str]:
    """Terms readers opened in the last ``days`` days, most recent first."""
    if days <= 0:
        return []
    now = time.time() if now is None else now
    return [t.decode() for t in client.zrevrangebyscore(keys.VISITED, "+inf", now - days * DAY)]


def followed_terms(settings: Settings, client: redis.Redis, now: float | None = None) -> list[str]:
    """What the daily job fetches: the configured categories, then the recently visited ones."""
    visited = visited_terms(client, settings.follow_visited_days, now)
    terms, _ = follow_terms([*settings.categories, *visited])
    return terms


def prune(client: redis.Redis, days: int, now: float | None = None) -> int:
    """Forget visits older than ``days`` (kept at least a day); returns how many went."""
    now = time.time() if now is None else now
    return client.zremrangebyscore(keys.VISITED, "-inf", now - max(days, 1) * DAY)


class OnDemand:
    """Visits to unfollowed listings, and the per-term claims that coalesce their fetches."""

    def __init__(self, settings: Settings, client: redis.Redis):
        self.settings = settings
        self.redis = client

    def unfollowed(self, spec: Spec) -> list[str]:
        """The spec's included terms the settings' list does not cover."""
        return [t for t in spec.include if not configured(self.settings, t)]

    def visit(self, terms: Sequence[str], now: float | None = None) -> list[str]:
        """Record a visit to each term; return those worth fetching now.

        A term is worth fetching when it was not followed before this visit (never
        visited, or not within ``follow_visited_days``) or has no listing at all.
        """
        if not terms:
            return []
        now = time.time() if now is None else now
        horizon = now - self.settings.follow_visited_days * DAY
        with self.redis.pipeline(transaction=False) as pipe:
            for t in terms:
                pipe.zscore(keys.VISITED, t)
            for t in terms:
                pipe.zadd(keys.VISITED, {t: now})
            scores = pipe.execute()[: len(terms)]
        listings = Listings(self.redis)
        outcomes = listings.outcomes(terms)
        recent = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - RECENT))
        due = []
        for term, score in zip(terms, scores, strict=True):
            followed = bool(self.settings.follow_visited_days) and (score or 0) >= horizon
            if followed and listings.latest(Spec((term,))) is not None:
                continue
            # Fetched a moment ago (an empty weekend feed, say): more visits do not ask again.
            if outcomes.get(term, {}).get("at", "") >= recent:
                continue
            due.append(term)
        return due

    def claim(self, terms: Iterable[str]) -> list[str]:
        """The terms whose fetch this caller must queue (no other fetch of them is pending)."""
        terms = list(terms)
        with self.redis.pipeline(transaction=False) as pipe:
            for t in terms:
                pipe.set(keys.on_demand(t), "queued", nx=True, ex=CLAIM_TTL)
            return [t for t, won in zip(terms, pipe.execute(), strict=True) if won]

    def release(self, terms: Iterable[str], failed: Iterable[str] = ()) -> None:
        """The fetch is over: clear the claims, holding failed terms for ``RETRY_AFTER``."""
        failed = set(failed)
        with self.redis.pipeline(transaction=False) as pipe:
            for t in terms:
                if t in failed:
                    pipe.set(keys.on_demand(t), "failed", ex=RETRY_AFTER)
                else:
                    pipe.delete(keys.on_demand(t))
            pipe.execute()

    def pending(self, terms: Iterable[str]) -> dict[str, str]:
        """term -> ``queued`` or ``failed`` for terms whose claim is held."""
        terms = list(terms)
        values = self.redis.mget([keys.on_demand(t) for t in terms]) if terms else []
        return {t: v.decode() for t, v in zip(terms, values, strict=True) if v}
