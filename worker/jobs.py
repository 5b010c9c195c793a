"""The RQ jobs: thin wrappers that build the domain objects and call them."""

from __future__ import annotations

import logging

from papermirror.arxiv.api import ApiClient
from papermirror.fetching import Drainer
from worker.context import context

log = logging.getLogger(__name__)


def drain_pending() -> dict:
    """Fetch every id that visitors asked for and the mirror lacks (see papermirror.fetching).

    Idempotent: with nothing pending it returns at once. Raises when arXiv is
    unreachable, so RQ retries it with backoff and finally keeps it, with the
    reason, in the failed job registry.
    """
    settings, client, session = context()
    report = Drainer(settings, client, ApiClient(settings, session)).drain()
    return {
        "requests": report.requests,
        "found": len(report.found),
        "missing": len(report.missing),
        "failed": len(report.failed),
        "skipped": report.skipped,
    }
