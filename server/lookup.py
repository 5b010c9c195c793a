"""Finding papers for a request: from the cache, or by asking the workers to fetch them.

The web tier never calls arXiv. For ids it lacks it queues a batched fetch and
waits up to ``fetch_wait`` seconds for the workers; then it reports each id as
found, missing (arXiv has no such paper), failed (arXiv unreachable) or
fetching (still under way).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rq import Retry

from papermirror import codec, keys, metrics
from papermirror.ids import PaperRef
from papermirror.records import Paper
from server.services import services

DRAIN_JOB = "worker.jobs.drain_pending"
POLL = 0.05
# A pending id older than this has probably lost its job (a worker died): enqueue again.
STALE_PENDING = 30.0
# If the queued job was lost before it started, the next first visit enqueues anew.
QUEUED_TTL = 60
# Seconds between two refreshes of a paper asked for in a version newer than stored.
REFRESH_TTL = 600


@dataclass
class Lookup:
    """The outcome for one requested paper."""

    ref: PaperRef
    state: str  # "found" | "missing" | "failed" | "fetching"
    blob: bytes | None = None
    error: str | None = None

    @property
    def paper(self) -> Paper | None:
        """The decoded record, when found."""
        return _decode(self.blob) if self.blob else None


# Popular papers are read far more often than they change: decode each blob once.
_decode = lru_cache(maxsize=4096)(codec.decode)


def enqueue_drain() -> None:
    """Ask a worker to fetch what is pending (cheap: surplus jobs exit at once)."""
    services().queue.enqueue(
        DRAIN_JOB,
        retry=Retry(max=3, interval=[5, 20, 60]),
        job_timeout=600,
        result_ttl=300,
        failure_ttl=7 * 24 * 3600,
        description="fetch pending papers from arXiv",
    )


def request_fetch(ids: Sequence[str]) -> None:
    """Queue ids for the batched fetcher, enqueueing a drain job when none is waiting."""
    svc = services()
    if svc.store.add_pending(ids):
        # One queued job drains a whole burst; it clears the flag when it starts.
        if svc.redis.set(keys.FETCH_QUEUED, 1, nx=True, ex=QUEUED_TTL):
            enqueue_drain()
        return
    since = svc.store.pending_since(ids)
    now = time.time()
    if any(s is not None and now - s > STALE_PENDING for s in since):
        enqueue_drain()


def lookup(refs: Sequence[PaperRef], wait: float | None = None) -> list[Lookup]:
    """Resolve each ref to a Lookup, fetching unknown ids and waiting up to ``wait`` seconds."""
    svc = services()
    wait = svc.settings.fetch_wait if wait is None else wait
    ids = [r.id for r in refs]
    blobs = svc.store.get_blobs(ids)
    if all(blobs):  # the hot path: every paper cached, one MGET
        results = [Lookup(ref, "found", blob) for ref, blob in zip(refs, blobs, strict=True)]
    else:
        results = _classify(refs, svc.store.status(ids))
    todo = [r.ref.id for r in results if r.state == "fetching"]
    # A version newer than the stored one means our record may be out of date; ask
    # arXiv again at most once per REFRESH_TTL, since the version may not exist at all.
    stale = [
        r.ref.id
        for r in results
        if r.state == "found"
        and r.ref.version
        and r.ref.version > r.paper.version
        and svc.redis.set(keys.refresh(r.ref.id), 1, nx=True, ex=REFRESH_TTL)
    ]
    if todo or stale:
        request_fetch(todo + stale)
        metrics.FIRST_VISITS.labels("new").inc(len(todo))
        metrics.FIRST_VISITS.labels("refresh").inc(len(stale))
    deadline = time.monotonic() + wait
    asked = set(todo)
    while todo and time.monotonic() < deadline:
        time.sleep(POLL)
        results = _classify(refs, svc.store.status(ids))
        todo = [r.ref.id for r in results if r.state == "fetching"]
    # Fetched from arXiv just now: a version it lacks needs no second request on the next visit.
    for r in results:
        if r.ref.id in asked and r.state == "found" and (r.ref.version or 0) > r.paper.version:
            svc.redis.set(keys.refresh(r.ref.id), 1, nx=True, ex=REFRESH_TTL)
    return results


def _classify(refs, statuses) -> list[Lookup]:
    out = []
    for ref, (blob, missing, error) in zip(refs, statuses, strict=True):
        if blob:
            out.append(Lookup(ref, "found", blob))
        elif missing:
            out.append(Lookup(ref, "missing"))
        elif error:
            out.append(Lookup(ref, "failed", error=error))
        else:
            out.append(Lookup(ref, "fetching"))
    return out
