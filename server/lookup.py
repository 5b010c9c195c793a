"""Finding papers for a request: from the cache, or by asking the workers to fetch them.

The web tier never calls arXiv. For ids it lacks it queues a batched fetch
(papermirror.fetching) and waits for the record, woken the moment a fetch ends
(server.fetchwatch). It waits as long as the limiter says the fetch will take,
up to ``fetch_wait``; then it reports each id as found, missing (arXiv has no
such paper), failed (arXiv unreachable, with a short reason a reader may see),
refused (the pending queue's bounds) or fetching (still under way).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from papermirror import codec, fetching, keys, metrics
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.arxiv.status import REASON_CODES
from papermirror.ids import PaperRef
from papermirror.pending import PendingQueue
from papermirror.records import Paper
from server.fetchwatch import watch_for
from server.services import services

DRAIN_JOB = fetching.DRAIN_JOB
# A pending id older than this may have lost its job (a worker died): make sure one is queued.
STALE_PENDING = 30.0
# Seconds between two refreshes of a paper asked for in a version newer than stored.
REFRESH_TTL = 600
# Answer at once rather than wait when the fetch will surely take longer than the page waits.
SLACK = 0.5


@dataclass
class Lookup:
    """The outcome for one requested paper.

    ``error`` is a short reason a reader may see (never exception text);
    ``retry_at`` is when the mirror tries again (unix seconds), ``eta`` how many
    seconds the fetch should still take, ``slow`` whether it is overdue.
    """

    ref: PaperRef
    state: str  # "found" | "missing" | "failed" | "fetching" | "refused"
    blob: bytes | None = None
    error: str | None = None
    code: str | None = None
    retry_at: float | None = None
    eta: float | None = None
    slow: bool = False

    @property
    def paper(self) -> Paper | None:
        """The decoded record, when found."""
        return _decode(self.blob) if self.blob else None

    @property
    def retry_clock(self) -> str | None:
        """``14:05 UTC``: when the mirror tries again, for the reader."""
        if self.retry_at is None:
            return None
        return datetime.fromtimestamp(self.retry_at, UTC).strftime("%H:%M UTC")


# Popular papers are read far more often than they change: decode each blob once.
_decode = lru_cache(maxsize=4096)(codec.decode)
_limiters: dict[int, ArxivLimiter] = {}


def _limiter(svc) -> ArxivLimiter:
    limiter = _limiters.get(id(svc.redis))
    if limiter is None:
        limiter = _limiters[id(svc.redis)] = ArxivLimiter(
            svc.redis, svc.settings.arxiv_min_interval
        )
    return limiter


def enqueue_drain() -> bool:
    """Make sure a drain job is queued (at most one waits; see papermirror.fetching)."""
    return fetching.enqueue_drain(services().queue)


def request_fetch(ids: Sequence[str], client: str | None = None) -> list[str]:
    """Queue ids for the batched fetcher and make sure a job will run; returns refused ids."""
    svc = services()
    result = PendingQueue(svc.redis, svc.settings).add(ids, client)
    if result.added:
        enqueue_drain()
        return result.refused
    since = svc.store.pending_since([i for i in ids if i not in result.refused])
    now = time.time()
    if any(s is not None and now - s > STALE_PENDING for s in since):
        # A no-op while a job waits or a follow-up is scheduled: polling never multiplies jobs.
        if not fetching.followup_due(svc.redis):
            enqueue_drain()
    return result.refused


def lookup(
    refs: Sequence[PaperRef], wait: float | None = None, client: str | None = None
) -> list[Lookup]:
    """Resolve each ref to a Lookup, fetching unknown ids and waiting up to ``wait`` seconds.

    ``client`` (the reader's address) keeps one reader's bulk request from
    delaying everybody else's first visit (see papermirror.pending).
    """
    svc = services()
    wait = svc.settings.fetch_wait if wait is None else wait
    ids = [r.id for r in refs]
    blobs = svc.store.get_blobs(ids)
    if all(blobs):  # the hot path: every paper cached, one MGET
        results = [Lookup(ref, "found", blob) for ref, blob in zip(refs, blobs, strict=True)]
    else:
        # States only: the fetch is asked for before anything slower is looked at.
        results = classify(refs, eta=False)
    # Failed ids are asked for again too: a later attempt that succeeds shows the paper.
    # Not those arXiv refused outright: asking again would only be refused again.
    todo = [
        r.ref.id
        for r in results
        if r.state == "fetching" or (r.state == "failed" and r.code != "refused")
    ]
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
    refused: list[str] = []
    if todo or stale:
        refused = request_fetch(todo + stale, client)
        if svc.settings.metrics_on:
            metrics.FIRST_VISITS.labels("new").inc(len(todo))
            metrics.FIRST_VISITS.labels("refresh").inc(len(stale))
    results = _wait(refs, _mark_refused(results, refused), refused, wait)
    # Fetched from arXiv just now: a version it lacks needs no second request on the next visit.
    asked = set(todo)
    for r in results:
        if r.ref.id in asked and r.state == "found" and (r.ref.version or 0) > r.paper.version:
            svc.redis.set(keys.refresh(r.ref.id), 1, nx=True, ex=REFRESH_TTL)
    return results


def _wait(
    refs: Sequence[PaperRef], results: list[Lookup], refused: Sequence[str], wait: float
) -> list[Lookup]:
    """Wait for the fetching ids as long as the fetch should take, up to ``wait`` seconds."""
    if not any(r.state == "fetching" for r in results):
        return results
    svc = services()
    watch = watch_for(svc.redis)
    deadline = time.monotonic() + wait
    first = True
    while True:
        since = watch.generation()  # before looking: a fetch ending meanwhile still wakes us
        results = _mark_refused(classify(refs), refused)
        fetching = [r for r in results if r.state == "fetching"]
        if not fetching:
            return results
        left = deadline - time.monotonic()
        eta = max(r.eta or 0.0 for r in fetching)
        # Tell the reader now when waiting cannot end well: arXiv is failing, or (at
        # the visit; later the estimate would count our own request) the limiter
        # says the fetch will outlast the page's wait.
        hopeless = first and eta > left + SLACK
        first = False
        if left <= 0 or any(r.state == "failed" for r in results) or hopeless:
            if left <= 0:
                for r in fetching:
                    r.slow = True
            return results
        watch.wait(since, left)


def _mark_refused(results: list[Lookup], refused: Sequence[str]) -> list[Lookup]:
    """Ids the pending queue's bounds refused are not being fetched: say so."""
    if not refused:
        return results
    return [
        Lookup(r.ref, "refused") if r.state == "fetching" and r.ref.id in refused else r
        for r in results
    ]


def classify(refs: Sequence[PaperRef], eta: bool = True) -> list[Lookup]:
    """Each ref's state now, in two round trips; a fetching id gets its ETA or arXiv's trouble."""
    svc = services()
    ids = [r.id for r in refs]
    statuses = svc.store.status(ids)
    with svc.redis.pipeline(transaction=False) as pipe:
        for i in ids:
            pipe.get(keys.fetch_reason(i))
        pipe.get(keys.ARXIV_TROUBLE)
        pipe.get(keys.ARXIV_RTT)
        *reasons, trouble, rtt = pipe.execute()
    out = []
    when = None if eta else 0.0
    for ref, (blob, missing, error), reason in zip(refs, statuses, reasons, strict=True):
        if blob:
            out.append(Lookup(ref, "found", blob))
        elif missing:
            out.append(Lookup(ref, "missing"))
        elif error or trouble:
            code, retry_at = _reason(reason if error and reason else trouble)
            out.append(
                Lookup(ref, "failed", error=REASON_CODES.get(code), code=code, retry_at=retry_at)
            )
        else:
            if when is None:
                when = _eta(svc, ids, float(rtt or 1.0))
            out.append(Lookup(ref, "fetching", eta=when))
    return out


def _reason(raw: bytes | None) -> tuple[str, float | None]:
    """(code, retry at) from ``code|retry_at`` or the trouble key's ``code|since|retry_at``."""
    parts = (raw or b"unreachable").decode().split("|")
    code = parts[0] if parts[0] in REASON_CODES else "unreachable"
    try:
        retry_at = float(parts[-1]) if len(parts) > 1 and parts[-1] else None
    except ValueError:
        retry_at = None
    if retry_at is not None and retry_at < time.time():
        retry_at = None
    return code, retry_at


def _eta(svc, ids: Sequence[str], rtt: float) -> float:
    """Seconds until these ids should land: the limiter's next slot, the queue ahead, arXiv."""
    limiter = _limiter(svc)
    with svc.redis.pipeline(transaction=False) as pipe:
        for i in ids:
            pipe.zscore(keys.PENDING_FIRST, i)
            pipe.zrank(keys.PENDING, i)
        flat = pipe.execute()
    # An id within its client's fair share goes in the next batch; others wait their turn.
    ranks = [rank for first, rank in zip(flat[::2], flat[1::2], strict=True) if first is None]
    ahead = max((r for r in ranks if r is not None), default=0) // 100
    return limiter.next_start_in() + ahead * (limiter.min_interval + rtt) + rtt
