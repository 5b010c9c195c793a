"""Daily listings: which papers arXiv announced in each category on each day, and how.

Storage (names in :mod:`papermirror.keys`), compact because it grows every day:

* ``keys.listing(cat, date)``: one string per category and announcement day,
  ``"2411.17700:n1,2411.17654:c2,..."`` (id, type code, announced version) in
  feed order. A day is always written whole, so re-running it stores the same
  bytes, and a failed fetch, which writes nothing, never erases one.
* ``keys.listing_dates(term)``: the days with a listing, per category and per
  archive, scored YYYYMMDD, for "latest day" and previous/next links.
* ``keys.FEED_STATUS`` / ``keys.FEED_LOG``: each followed term's last fetch
  outcome, and a capped log of recent ones.

A category's entry says how the paper relates to *that* category, as on
arxiv.org/list/<cat>/new: ``new``/``replace`` where it is the primary
category, ``cross``/``replace-cross`` elsewhere. A page for a spec reads the
listings of every category the spec can include in one round trip, unites
them (:func:`combine`) and drops excluded papers with ``Spec.matches``
(:func:`select`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import redis

from papermirror import keys
from papermirror.categories import ARCHIVES, CATEGORIES, Spec, canonical_category
from papermirror.records import Paper

CODES = {"new": "n", "cross": "c", "replace": "r", "replace-cross": "x"}
TYPES = {code: kind for kind, code in CODES.items()}
# Where a paper's primary category is listed (new, replace) vs. its other categories.
PRIMARY = {"new": True, "replace": True, "cross": False, "replace-cross": False}
SECTIONS = ("new", "cross", "replace")


@dataclass(frozen=True, slots=True)
class Entry:
    """One paper in a listing: its id, how it was announced, and the announced version."""

    id: str
    announce_type: str
    version: int

    @property
    def section(self) -> str:
        """The page section: ``new``, ``cross`` or ``replace`` (replacements of both kinds)."""
        return "replace" if self.announce_type.startswith("replace") else self.announce_type


def encode_listing(entries: Iterable[Entry]) -> bytes:
    """The stored form of one category's day."""
    return ",".join(f"{e.id}:{CODES[e.announce_type]}{e.version}" for e in entries).encode()


def decode_listing(data: bytes | str | None) -> list[Entry]:
    """Inverse of :func:`encode_listing`; None (no key) is an empty listing."""
    if not data:
        return []
    text = data.decode() if isinstance(data, bytes) else data
    out = []
    for item in text.split(","):
        paper_id, _, code = item.rpartition(":")
        out.append(Entry(paper_id, TYPES[code[0]], int(code[1:])))
    return out


def archive_of(category: str) -> str:
    """The archive a category belongs to (``cs.AI`` -> ``cs``, ``hep-th`` -> ``hep-th``)."""
    return category.partition(".")[0]


def expand(terms: Iterable[str]) -> list[str]:
    """Every current category that category or archive terms cover, sorted."""
    out: set[str] = set()
    for term in terms:
        name = canonical_category(term)
        if name in ARCHIVES:
            out.update(c for c in CATEGORIES if archive_of(c) == name)
        elif name in CATEGORIES:
            out.add(name)
    return sorted(out, key=str.lower)


def combine(listings: Mapping[str, Sequence[Entry]]) -> list[Entry]:
    """Unite several categories' listings of one day into one, sorted by section and id.

    A paper listed as ``new``/``replace`` in any of them (so its primary
    category is among them) keeps that type; otherwise it is a cross-list.
    The highest announced version wins.
    """
    merged: dict[str, Entry] = {}
    for entries in listings.values():
        for e in entries:
            old = merged.get(e.id)
            if old is None:
                merged[e.id] = e
                continue
            kind = e.announce_type if PRIMARY[e.announce_type] else old.announce_type
            merged[e.id] = Entry(e.id, kind, max(e.version, old.version))
    order = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(merged.values(), key=lambda e: (order[e.section], e.id))


def combine_raw(spec: Spec, raw: Sequence[bytes | None]) -> list[Entry]:
    """:func:`combine` over what :meth:`Listings.raw_day` read for ``spec``."""
    categories = expand(spec.include)
    return combine({c: decode_listing(r) for c, r in zip(categories, raw, strict=True)})


def select(
    spec: Spec, entries: Sequence[Entry], papers: Sequence[Paper | None]
) -> list[tuple[Entry, Paper]]:
    """The entries whose stored record matches the spec (exclusions applied), with records."""
    return [
        (e, p)
        for e, p in zip(entries, papers, strict=True)
        if p is not None and spec.matches(p.categories)
    ]


def counts(entries: Iterable[Entry]) -> dict[str, int]:
    """How many entries each page section holds."""
    out = dict.fromkeys(SECTIONS, 0)
    for e in entries:
        out[e.section] += 1
    return out


def _score(date: str) -> int:
    return int(date.replace("-", ""))


def _date_keys(spec: Spec) -> list[str]:
    # An archive term has its own date set; a category term uses the category's.
    return [keys.listing_dates(t) for t in spec.include]


class Listings:
    """Reads and writes listings and fetch outcomes on one Redis."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    # --- writing -------------------------------------------------------------
    def write_day(self, date: str, listings: Mapping[str, Sequence[Entry]]) -> None:
        """Store one announcement day for every category in ``listings``, atomically.

        Categories mapped to an empty list get an empty day (the date is still
        recorded, so their page shows "nothing announced" rather than an older day).
        """
        score = _score(date)
        with self.redis.pipeline(transaction=True) as pipe:
            for category, entries in listings.items():
                name = keys.listing(category, date)
                if entries:
                    pipe.set(name, encode_listing(entries))
                else:
                    pipe.delete(name)
                pipe.zadd(keys.listing_dates(category), {date: score})
                pipe.zadd(keys.listing_dates(archive_of(category)), {date: score})
            pipe.execute()

    def record_outcomes(self, outcomes: Iterable[dict]) -> None:
        """Remember each term's latest fetch outcome (a dict with at least ``term``)."""
        outcomes = list(outcomes)
        if not outcomes:
            return
        with self.redis.pipeline(transaction=True) as pipe:
            for o in outcomes:
                text = json.dumps(o, separators=(",", ":"))
                pipe.hset(keys.FEED_STATUS, o["term"], text)
                pipe.lpush(keys.FEED_LOG, text)
            pipe.ltrim(keys.FEED_LOG, 0, keys.FEED_LOG_LENGTH - 1)
            pipe.execute()

    # --- reading -------------------------------------------------------------
    def day(self, spec: Spec, date: str) -> list[Entry]:
        """The spec's listing of ``date``, before exclusions (see :func:`select`)."""
        return combine_raw(spec, self.raw_day(spec, date))

    def raw_day(self, spec: Spec, date: str) -> list[bytes | None]:
        """The stored strings behind :meth:`day`, for cache keys."""
        categories = expand(spec.include)
        return self.redis.mget([keys.listing(c, date) for c in categories]) if categories else []

    def latest(self, spec: Spec) -> str | None:
        """The most recent day with a listing for any included term, or None."""
        days = self._around(spec, None)
        return days[0]

    def neighbours(self, spec: Spec, date: str) -> tuple[str | None, str | None]:
        """The listed days just before and just after ``date`` for this spec."""
        return self._around(spec, date)[1:]

    def has_day(self, spec: Spec, date: str) -> bool:
        """Whether any included term has a listing (maybe empty) for ``date``."""
        with self.redis.pipeline(transaction=False) as pipe:
            for name in _date_keys(spec):
                pipe.zscore(name, date)
            return any(s is not None for s in pipe.execute())

    def dates(self, spec: Spec, limit: int = 30) -> list[str]:
        """The spec's most recent listed days, newest first."""
        found: set[str] = set()
        with self.redis.pipeline(transaction=False) as pipe:
            for name in _date_keys(spec):
                pipe.zrevrange(name, 0, limit - 1)
            for members in pipe.execute():
                found.update(m.decode() for m in members)
        return sorted(found, reverse=True)[:limit]

    def _around(self, spec: Spec, date: str | None) -> tuple[str | None, str | None, str | None]:
        names = _date_keys(spec)
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.zrevrange(name, 0, 0)
                if date is not None:
                    pipe.zrevrangebyscore(name, f"({_score(date)}", "-inf", start=0, num=1)
                    pipe.zrangebyscore(name, f"({_score(date)}", "+inf", start=0, num=1)
            flat = pipe.execute()
        step = 1 if date is None else 3
        latest = [m for i in range(0, len(flat), step) for m in flat[i]]
        before = [m for i in range(1, len(flat), step) for m in flat[i]] if date else []
        after = [m for i in range(2, len(flat), step) for m in flat[i]] if date else []
        return (
            max(latest).decode() if latest else None,
            max(before).decode() if before else None,
            min(after).decode() if after else None,
        )

    def outcomes(self, terms: Iterable[str] | None = None) -> dict[str, dict]:
        """The last fetch outcome of each term (all recorded terms when ``terms`` is None)."""
        if terms is None:
            raw = self.redis.hgetall(keys.FEED_STATUS)
            return {k.decode(): json.loads(v) for k, v in raw.items()}
        terms = list(terms)
        if not terms:
            return {}
        values = self.redis.hmget(keys.FEED_STATUS, terms)
        return {t: json.loads(v) for t, v in zip(terms, values, strict=True) if v}

    def log(self, limit: int = 50) -> list[dict]:
        """Recent fetch outcomes, newest first."""
        return [json.loads(v) for v in self.redis.lrange(keys.FEED_LOG, 0, limit - 1)]
