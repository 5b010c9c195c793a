"""The record codec, merge rules and the Redis store, against a real Redis."""

from dataclasses import replace

import pytest

from papermirror import codec, keys
from papermirror.records import Author, Paper, Version, merge
from papermirror.store import Store

V1 = Paper(
    id="hep-th/9901001",
    version=1,
    title="Über <b>strings</b> & $\\alpha$-branes",
    authors=(Author("A. Author", ("CERN", "MIT")), Author("B. Bee")),
    abstract="We show that $x<y$ &amp; more.",
    categories=("hep-th", "math-ph"),
    published="1999-01-04T12:00:00Z",
    updated="1999-01-04T12:00:00Z",
    versions=(Version(1, "1999-01-04T12:00:00Z", "12kb"),),
    comment="10 pages",
    license="http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    source="api",
)
V2 = replace(
    V1,
    version=2,
    title="Strings, revised",
    updated="1999-05-10T12:00:00Z",
    versions=(Version(1, "1999-01-04T12:00:00Z"), Version(2, "1999-05-10T12:00:00Z")),
    journal_ref="Phys. Rev. D 60 (1999) 1",
)


def test_codec_round_trip():
    assert codec.decode(codec.encode(V1)) == V1
    assert codec.decode(codec.encode(V2)) == V2


def test_codec_rejects_unknown_format():
    with pytest.raises(ValueError):
        codec.decode(b"\x07garbage")


def test_merge_never_downgrades():
    assert merge(V2, V1).version == 2
    assert merge(V2, V1).title == "Strings, revised"
    assert merge(V1, V2).title == "Strings, revised"


def test_merge_keeps_version_history_and_first_date():
    merged = merge(V2, V1)
    assert [v.number for v in merged.versions] == [1, 2]
    assert merged.versions[0].size == "12kb"
    assert merged.published == "1999-01-04T12:00:00Z"


def test_merge_fills_gaps_from_the_poorer_record():
    rss_like = replace(
        V1,
        comment=None,
        authors=(Author("A. Author"),),
        source="rss",
        published=None,
        versions=(Version(1),),
    )
    merged = merge(V1, rss_like)
    assert merged.comment == "10 pages"
    assert merged.authors[0].affiliations == ("CERN", "MIT")
    assert merge(merged, rss_like) == merged


def test_upsert_is_idempotent(redis_client):
    store = Store(redis_client)
    store.upsert(V1)
    blob = store.get_blob(V1.id)
    store.upsert(V1)
    assert store.get_blob(V1.id) == blob
    assert store.get(V1.id) == V1


def test_upsert_never_replaces_newer_with_older(redis_client):
    store = Store(redis_client)
    store.upsert(V2)
    store.upsert(V1)
    assert store.get(V1.id).version == 2
    assert store.get(V1.id).title == "Strings, revised"


def test_upsert_many_merges_duplicates_in_one_batch(redis_client):
    store = Store(redis_client)
    [stored] = store.upsert_many([V1, V2, V1])
    assert stored.version == 2 and store.get(V1.id) == stored


def test_upsert_clears_negative_cache_and_errors(redis_client):
    store = Store(redis_client)
    store.mark_missing([V1.id], ttl=60)
    store.set_fetch_error([V1.id], "arXiv down", ttl=60)
    assert store.status([V1.id]) == [(None, True, "arXiv down")]
    store.upsert(V1)
    blob, missing, error = store.status([V1.id])[0]
    assert blob and not missing and error is None


def test_negative_cache_expires(redis_client):
    Store(redis_client).mark_missing(["0000.0000"], ttl=5)
    assert 0 < redis_client.ttl(keys.missing("0000.0000")) <= 5


def test_pending_set_is_ordered_and_deduplicated(redis_client):
    store = Store(redis_client)
    assert store.add_pending(["b"], now=2.0) == ["b"]
    assert store.add_pending(["a", "b"], now=3.0) == ["a"]
    assert store.add_pending(["a", "c"], now=1.0) == ["c"]
    assert store.pending_batch(2) == ["c", "b"]
    store.clear_pending(["c", "b"])
    assert store.pending_batch(10) == ["a"]
    assert store.pending_since(["a", "zz"]) == [3.0, None]
