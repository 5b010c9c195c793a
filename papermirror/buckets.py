"""Where paper records live in Redis: small hashes of up to a hundred papers each.

A string key per paper costs Redis about 90 bytes of bookkeeping (its dict entry,
key, object header and allocator rounding) on top of a ~520-byte record. A hash
of a hundred records, kept in Redis's compact listpack (ziplist before Redis 7)
encoding, costs a few bytes per record instead: 532 against 617 bytes per paper,
measured on 100,000 snapshot records (issue 9). The compact encoding needs
``hash-max-listpack-value`` above a record's size, which the embedded Redis and
the compose stack set (:data:`papermirror.embedded.COMPACT_HASHES`); a Redis
without it keeps each bucket as a plain hash, which is correct and costs about
what a key per paper did.

Bucket and field names come from :func:`papermirror.keys.paper_slot`. Every read
and write of records goes through this module or :class:`papermirror.store.Store`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import redis
from redis.client import Pipeline
from redis.commands.core import Script

from papermirror import codec, keys
from papermirror.records import merge


def _groups(paper_ids: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for n, paper_id in enumerate(paper_ids):
        bucket, field = keys.paper_slot(paper_id)
        groups[bucket].append((n, field))
    return groups


def get(client: redis.Redis, paper_id: str) -> bytes | None:
    """The stored blob of one paper, or None."""
    return client.hget(*keys.paper_slot(paper_id))


# One HGET per record, server-side: for a listing's 1,000 records, 1.4 ms against
# 2.0 ms for a pipeline of HMGETs per bucket (redis-py's cost per command), and
# 0.9 ms for the MGET of the layout with a key per paper.
_HGET_MANY = """
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGET', KEYS[i], ARGV[i]) end
return out
"""


def get_many(client: redis.Redis | Pipeline, paper_ids: Sequence[str]) -> list[bytes | None]:
    """Blobs of several papers, in order, in one round trip.

    ``client`` may also be a pipeline that WATCHes (immediate mode): one HMGET per
    bucket then runs at once, so the caller can read before its MULTI.
    """
    if not paper_ids:
        return []
    if not isinstance(client, Pipeline):
        slots = [keys.paper_slot(i) for i in paper_ids]
        script = Script(client, _HGET_MANY)
        return script(keys=[b for b, _ in slots], args=[f for _, f in slots])
    out: list[bytes | None] = [None] * len(paper_ids)
    groups = _groups(paper_ids)
    replies = [client.hmget(bucket, [f for _, f in slots]) for bucket, slots in groups.items()]
    for slots, values in zip(groups.values(), replies, strict=True):
        for (n, _), value in zip(slots, values, strict=True):
            out[n] = value
    return out


def set_many(pipe: Pipeline, blobs: dict[str, bytes]) -> None:
    """Queue the writes of ``{paper id: blob}`` on ``pipe``: one HSET per bucket."""
    mappings: dict[str, dict[str, bytes]] = defaultdict(dict)
    for paper_id, blob in blobs.items():
        bucket, field = keys.paper_slot(paper_id)
        mappings[bucket][field] = blob
    for bucket, mapping in mappings.items():
        pipe.hset(bucket, mapping=mapping)


def scan(client: redis.Redis, buckets_per_step: int = 50) -> Iterator[list[bytes]]:
    """Every stored blob, a list of a few thousand at a time (a SCAN: no lock, no snapshot)."""
    names: list[bytes] = []
    for name in client.scan_iter(match=keys.PAPERS_MATCH, count=1000, _type="hash"):
        names.append(name)
        if len(names) >= buckets_per_step:
            yield _values(client, names)
            names = []
    if names:
        yield _values(client, names)


def _values(client: redis.Redis, names: list[bytes]) -> list[bytes]:
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.hvals(name)
        return [blob for values in pipe.execute() for blob in values]


def ids(client: redis.Redis) -> Iterator[str]:
    """Every stored paper id, in no order (a SCAN)."""
    for name in client.scan_iter(match=keys.PAPERS_MATCH, count=1000, _type="hash"):
        for field in client.hkeys(name):
            yield keys.paper_id(name, field)


def count(client: redis.Redis) -> int:
    """Number of stored papers (scans the buckets; for status pages, not hot paths)."""
    total, names = 0, []
    for name in client.scan_iter(match=keys.PAPERS_MATCH, count=1000, _type="hash"):
        names.append(name)
    for start in range(0, len(names), 1000):
        with client.pipeline(transaction=False) as pipe:
            for name in names[start : start + 1000]:
                pipe.hlen(name)
            total += sum(pipe.execute())
    return total


def migrate(client: redis.Redis, chunk: int = 500) -> int:
    """Move records kept one per string key (releases before the buckets) into buckets.

    Idempotent and safe beside running writers: each chunk moves in one WATCHed
    transaction, and a record already in its bucket is merged with the old one
    by the store's rules (an older version never replaces a newer one). The
    search index already holds these papers, so nothing is announced. Returns
    how many records moved.
    """
    moved = 0
    while True:
        names = []
        for name in client.scan_iter(match=keys.PAPERS_MATCH, count=1000, _type="string"):
            names.append(name)
            if len(names) >= chunk:
                break
        if not names:
            return moved
        moved += _move(client, names)


def _move(client: redis.Redis, names: list[bytes]) -> int:
    ids = [name.decode()[len(keys.BUCKET_PREFIX) :] for name in names]
    buckets = sorted({keys.paper_slot(i)[0] for i in ids})
    while True:
        with client.pipeline() as pipe:
            try:
                pipe.watch(*names, *buckets)
                old = pipe.mget(names)
                current = get_many(pipe, ids)
                writes = {}
                for paper_id, legacy, blob in zip(ids, old, current, strict=True):
                    if legacy is None:
                        continue
                    if blob is None:
                        writes[paper_id] = legacy
                        continue
                    kept = codec.decode(blob)
                    merged = merge(codec.decode(legacy), kept)
                    if merged != kept:
                        writes[paper_id] = codec.encode(merged)
                pipe.multi()
                set_many(pipe, writes)
                pipe.delete(*names)
                pipe.execute()
                return sum(1 for blob in old if blob is not None)
            except redis.WatchError:
                continue
