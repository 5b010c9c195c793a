"""The Redis store of paper records, the negative cache and the fetch queue state.

One compact blob per paper (see :mod:`papermirror.codec`), a hundred to a Redis
hash (see :mod:`papermirror.buckets`); key names come from :mod:`papermirror.keys`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

import redis

from papermirror import buckets, codec, keys
from papermirror.records import Paper, merge
from papermirror.search.announce import announce

_WATCH_RETRIES = 20


class Store:
    """Paper records in Redis. Thread-safe as far as the redis-py client is."""

    def __init__(self, client: redis.Redis):
        self.redis = client

    # --- records -----------------------------------------------------------
    def get_blob(self, paper_id: str) -> bytes | None:
        """The stored blob of one paper (cheap; the web tier keys its caches on it)."""
        return buckets.get(self.redis, paper_id)

    def get(self, paper_id: str) -> Paper | None:
        """The record of one paper, or None."""
        blob = self.get_blob(paper_id)
        return codec.decode(blob) if blob else None

    def get_blobs(self, paper_ids: Sequence[str]) -> list[bytes | None]:
        """Blobs for several papers in one round trip, in order."""
        return buckets.get_many(self.redis, paper_ids)

    def upsert(self, paper: Paper) -> Paper:
        """Merge ``paper`` into the stored record and return what is stored now."""
        return self.upsert_many([paper])[0]

    def upsert_many(self, papers: Iterable[Paper]) -> list[Paper]:
        """Merge many records in one optimistic transaction (WATCH/MULTI), retried on conflict.

        Idempotent: upserting the same record twice stores the same bytes, and an
        older version never replaces a newer one (see :func:`records.merge`).
        """
        batch: dict[str, Paper] = {}
        for p in papers:  # a batch may name a paper twice: merge those first
            batch[p.id] = merge(batch.get(p.id), p)
        if not batch:
            return []
        ids = list(batch)
        names = sorted({keys.paper_slot(i)[0] for i in ids})
        for _ in range(_WATCH_RETRIES):
            with self.redis.pipeline() as pipe:
                try:
                    pipe.watch(*names)
                    old_blobs = buckets.get_many(pipe, ids)
                    merged, writes = [], {}
                    for paper_id, new, old_blob in zip(ids, batch.values(), old_blobs, strict=True):
                        old = codec.decode(old_blob) if old_blob else None
                        result = merge(old, new)
                        merged.append(result)
                        if result != old:
                            writes[paper_id] = codec.encode(result)
                    pipe.multi()
                    if writes:
                        buckets.set_many(pipe, writes)
                        # The search indexers follow every write (same transaction).
                        announce(pipe, (i for i in batch if i in writes))
                    # A paper that exists is no longer missing nor failing.
                    pipe.delete(
                        *(keys.missing(i) for i in batch), *(keys.fetch_error(i) for i in batch)
                    )
                    pipe.execute()
                    return merged
                except redis.WatchError:
                    continue
        raise RuntimeError("upsert kept conflicting with concurrent writers")

    def count(self) -> int:
        """Number of stored papers (scans; for status pages, not hot paths)."""
        return buckets.count(self.redis)

    # --- negative cache and fetch errors ------------------------------------
    def mark_missing(self, paper_ids: Iterable[str], ttl: int) -> None:
        """Remember for ``ttl`` seconds that arXiv does not know these ids."""
        with self.redis.pipeline(transaction=False) as pipe:
            for i in paper_ids:
                pipe.set(keys.missing(i), 1, ex=ttl)
            pipe.execute()

    def set_fetch_error(self, paper_ids: Iterable[str], reason: str, ttl: int) -> None:
        """Record for ``ttl`` seconds why fetching these ids failed.

        The batch and its full reason also go to a capped log for operators
        (/admin, ``papermirror status``); readers never see either.
        """
        paper_ids = list(paper_ids)
        entry = {"at": time.time(), "ids": paper_ids[:100], "count": len(paper_ids)}
        with self.redis.pipeline(transaction=False) as pipe:
            for i in paper_ids:
                pipe.set(keys.fetch_error(i), reason[:500], ex=ttl)
            pipe.lpush(keys.FETCH_ERROR_LOG, json.dumps(entry | {"error": reason[:4000]}))
            pipe.ltrim(keys.FETCH_ERROR_LOG, 0, keys.FETCH_ERROR_LOG_LENGTH - 1)
            pipe.execute()

    def status(self, paper_ids: Sequence[str]) -> list[tuple[bytes | None, bool, str | None]]:
        """(blob, missing, fetch error) for each id, in one round trip."""
        if not paper_ids:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for i in paper_ids:
                pipe.hget(*keys.paper_slot(i))
                pipe.exists(keys.missing(i))
                pipe.get(keys.fetch_error(i))
            flat = pipe.execute()
        out = []
        for k in range(0, len(flat), 3):
            err = flat[k + 2]
            out.append((flat[k], bool(flat[k + 1]), err.decode() if err else None))
        return out

    # --- the pending set of the coalescing fetcher --------------------------
    def add_pending(self, paper_ids: Iterable[str], now: float | None = None) -> list[str]:
        """Queue ids for a batched fetch; returns those that were not queued already."""
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return []
        now = time.time() if now is None else now
        with self.redis.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.zadd(keys.PENDING, {i: now}, nx=True)
            added = pipe.execute()
        return [i for i, n in zip(ids, added, strict=True) if n]

    def pending_since(self, paper_ids: Sequence[str]) -> list[float | None]:
        """When each id was queued, or None if it is not pending."""
        if not paper_ids:
            return []
        return self.redis.zmscore(keys.PENDING, list(paper_ids))

    def pending_batch(self, limit: int) -> list[str]:
        """The ``limit`` longest-waiting pending ids."""
        return [m.decode() for m in self.redis.zrange(keys.PENDING, 0, limit - 1)]

    def pending_count(self) -> int:
        """How many ids wait for a fetch."""
        return self.redis.zcard(keys.PENDING)

    def clear_pending(self, paper_ids: Iterable[str]) -> None:
        """Take ids off the pending set once their fetch has an outcome."""
        ids = list(paper_ids)
        if ids:
            self.redis.zrem(keys.PENDING, *ids)
