"""Paper records a hundred to a Redis hash (papermirror.buckets), on a real Redis."""

from __future__ import annotations

import pytest

from papermirror import buckets, codec, keys
from papermirror.records import Paper, Version
from papermirror.store import Store

SLOTS = [
    ("2411.12345", "pm:p:2411.123", "45"),
    ("2411.00001", "pm:p:2411.000", "01"),
    ("0704.0001", "pm:p:0704.00", "01"),
    ("1501.00099", "pm:p:1501.000", "99"),
    ("hep-th/9901001", "pm:p:hep-th/99010", "01"),
    ("math.AG/0601123", "pm:p:math.AG/06011", "23"),
]


@pytest.mark.parametrize(("paper_id", "bucket", "field"), SLOTS)
def test_paper_slot_and_back(paper_id, bucket, field):
    assert keys.paper_slot(paper_id) == (bucket, field)
    assert keys.paper_id(bucket, field) == paper_id
    assert keys.paper_id(bucket.encode(), field.encode()) == paper_id


def test_no_bucket_is_named_like_a_record_of_the_old_layout():
    # A bucket drops the last two digits: never a whole id, so the two layouts never share a key.
    for paper_id, bucket, _ in SLOTS:
        assert bucket != keys.legacy_paper(paper_id)


def paper(paper_id: str, version: int = 1, title: str = "A title") -> Paper:
    return Paper(id=paper_id, version=version, title=title, versions=(Version(version),))


def test_many_in_order_across_buckets_with_gaps(redis_client):
    ids = ["2411.12345", "0704.0001", "2411.12399", "hep-th/9901001", "2411.99999"]
    Store(redis_client).upsert_many([paper(i, title=f"T {i}") for i in ids[:4]])
    blobs = buckets.get_many(redis_client, ids)
    assert [codec.decode(b).title for b in blobs[:4]] == [f"T {i}" for i in ids[:4]]
    assert blobs[4] is None
    assert buckets.get(redis_client, "2411.12399") == blobs[2]
    assert buckets.get_many(redis_client, []) == []
    assert sorted(buckets.ids(redis_client)) == sorted(ids[:4])
    assert buckets.count(redis_client) == Store(redis_client).count() == 4
    # Two of them share a bucket: three hashes hold four papers.
    assert len(list(redis_client.scan_iter(match=keys.PAPERS_MATCH))) == 3


def test_scan_yields_every_blob_once(redis_client):
    ids = [f"2401.{n:05d}" for n in range(1, 1200)]
    Store(redis_client).upsert_many([paper(i) for i in ids])
    seen = [codec.decode(b).id for chunk in buckets.scan(redis_client, 3) for b in chunk]
    assert sorted(seen) == ids


def test_the_embedded_redis_keeps_a_full_bucket_compact(redis_client):
    # 100 records of ~1 KB each: over Redis's default hash-max-listpack-value (64),
    # under the embedded server's COMPACT_HASHES.
    long = "word " * 200
    Store(redis_client).upsert_many([paper(f"2402.001{n:02d}", title=long) for n in range(100)])
    [bucket] = redis_client.scan_iter(match=keys.PAPERS_MATCH)
    assert redis_client.hlen(bucket) == 100
    assert redis_client.object("encoding", bucket) in (b"ziplist", b"listpack")


def test_migrate_moves_the_old_layout_and_keeps_the_newer_record(redis_client):
    old_only = paper("2301.00001", title="only in the old layout")
    stale = paper("2301.00002", version=1, title="v1, old layout")
    newer = paper("2301.00002", version=2, title="v2, written after the upgrade")
    newer_old = paper("2301.00003", version=3, title="v3, old layout")
    older_new = paper("2301.00003", version=2, title="v2, written after the upgrade")
    for p in (old_only, stale, newer_old):
        redis_client.set(keys.legacy_paper(p.id), codec.encode(p))
    Store(redis_client).upsert_many([newer, older_new])

    assert buckets.migrate(redis_client, chunk=2) == 3
    store = Store(redis_client)
    assert store.get("2301.00001").title == "only in the old layout"
    assert store.get("2301.00002").title == "v2, written after the upgrade"
    assert store.get("2301.00003").title == "v3, old layout"
    assert [v.number for v in store.get("2301.00003").versions] == [2, 3]
    assert not list(redis_client.scan_iter(match=keys.PAPERS_MATCH, _type="string"))
    assert buckets.migrate(redis_client) == 0  # idempotent


def test_a_worker_start_moves_the_old_layout(redis_client, redis_url, monkeypatch):
    from worker.run import migrate_records

    redis_client.set(keys.legacy_paper("2302.00001"), codec.encode(paper("2302.00001")))
    monkeypatch.setenv("RQ_REDIS_URL", redis_url)
    migrate_records()
    assert Store(redis_client).get("2302.00001").title == "A title"
    assert not redis_client.exists(keys.legacy_paper("2302.00001"))
