"""Coalesced first-visit fetches: many visitors' new ids, few arXiv requests.

The web tier adds ids it lacks to the pending set and enqueues a drain job.
Whichever worker takes the drain lock fetches the pending ids in batches of up
to 100 per ``id_list`` request, waiting for the global arXiv limiter between
batches. Ids that arrive while it waits join the next batch, so 60 first visits
at once cost one or two requests. Other drain jobs find the lock taken and
leave at once: the holder drains everything, including their ids.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import redis

from papermirror import keys, metrics
from papermirror.arxiv.api import BATCH_SIZE, ApiClient, ArxivError
from papermirror.arxiv.http import ArxivUnavailable
from papermirror.locks import try_lock
from papermirror.settings import Settings
from papermirror.store import Store

log = logging.getLogger(__name__)

# The drain lock frees itself this many seconds after its holder dies.
LOCK_TTL = 15.0


@dataclass
class DrainReport:
    """What one drain did: requests made and the outcome per id."""

    requests: int = 0
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: bool = False  # another worker held the drain lock


class Drainer:
    """Fetches every pending id, in batches, under the drain lock."""

    def __init__(self, settings: Settings, client: redis.Redis, api: ApiClient):
        self.settings = settings
        self.redis = client
        self.store = Store(client)
        self.api = api

    def drain(self) -> DrainReport:
        """Fetch until the pending set is empty. Raises ArxivUnavailable after recording it."""
        report = DrainReport()
        # From now on a new first visit must enqueue another job: this one may
        # already have read the pending set when that visit's id arrives.
        self.redis.delete(keys.FETCH_QUEUED)
        while True:
            with try_lock(self.redis, keys.FETCH_LOCK, LOCK_TTL) as taken:
                if not taken:
                    report.skipped = report.requests == 0
                    return report
                if report.requests == 0 and self.settings.coalesce_window > 0:
                    time.sleep(self.settings.coalesce_window)  # let a burst of visits gather
                self._drain_locked(report)
            # An id queued while we held the lock had its own job leave at once;
            # look again now that the lock is free, so it cannot be stranded.
            if not self.store.pending_count():
                return report

    def _drain_locked(self, report: DrainReport) -> None:
        while batch := self.store.pending_batch(BATCH_SIZE):
            metrics.FETCH_BATCH.observe(self.redis, len(batch))
            try:
                result = self.api.fetch(batch)
            except ArxivUnavailable as exc:
                # Leave the ids pending for the job's retry; visitors see the reason meanwhile.
                self.store.set_fetch_error(batch, str(exc), self.settings.error_ttl)
                report.failed.extend(batch)
                raise
            except ArxivError as exc:
                # arXiv refused the request itself: retrying the same ids cannot help.
                self.store.set_fetch_error(batch, str(exc), self.settings.error_ttl)
                self.store.clear_pending(batch)
                report.failed.extend(batch)
                report.requests += 1
                log.warning("arXiv refused %d ids: %s", len(batch), exc)
                continue
            report.requests += 1
            self.store.upsert_many(result.found.values())
            # An id arXiv calls malformed names no paper either; both are "not found".
            self.store.mark_missing([*result.missing, *result.invalid], self.settings.missing_ttl)
            self.store.clear_pending(batch)
            report.found.extend(result.found)
            report.missing.extend([*result.missing, *result.invalid])
            log.info(
                "fetched %d ids: %d found, %d missing",
                len(batch),
                len(result.found),
                len(result.missing),
            )
