"""An OAI-PMH harvest of a date range: every page through the polite session, into the store.

It only adds papers: a record already stored is merged by the store's rules
(:func:`papermirror.records.merge`), so an older version never replaces a
newer one, and harvesting twice changes nothing.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import redis

from papermirror.arxiv.http import ArxivUnavailable, PoliteSession
from papermirror.arxiv.oai import OaiPage, parse_oai
from papermirror.store import Store

log = logging.getLogger(__name__)

FLOW_CONTROL_ROUNDS = 5  # times a harvest waits out arXiv's 503s on one page


@dataclass
class HarvestReport:
    """What an OAI-PMH harvest did."""

    pages: int = 0
    papers: int = 0
    deleted: list[str] = field(default_factory=list)
    complete_list_size: int | None = None


class HarvestError(Exception):
    """arXiv's OAI-PMH interface refused the harvest (bad set, bad token...)."""


def harvest(
    client: redis.Redis,
    session: PoliteSession,
    base_url: str,
    start: str,
    until: str,
    *,
    set_spec: str | None = None,
    prefix: str = "arXivRaw",
    progress: bool = False,
) -> HarvestReport:
    """Harvest ``ListRecords`` from ``start`` to ``until`` (YYYY-MM-DD) into the store.

    Follows resumption tokens; every request goes through the session's
    global limiter, and 503 "Retry after" answers hold back every process.
    Raises :class:`HarvestError` on an OAI error other than an empty window,
    and ArxivUnavailable when arXiv stays unreachable.
    """
    store = Store(client)
    report = HarvestReport()
    params = {"verb": "ListRecords", "metadataPrefix": prefix, "from": start, "until": until}
    if set_spec:
        params["set"] = set_spec
    bar = None
    try:
        while True:
            page = _oai_page(session, base_url, params)
            report.pages += 1
            if page.failed:
                raise HarvestError(f"OAI-PMH error {page.error[0]}: {page.error[1]}")
            if page.papers:
                store.upsert_many(page.papers)
                report.papers += len(page.papers)
            report.deleted += page.deleted
            if page.complete_list_size is not None:
                report.complete_list_size = page.complete_list_size
            if progress and bar is None:
                from tqdm import tqdm

                bar = tqdm(total=report.complete_list_size, unit="rec", dynamic_ncols=True)
            if bar is not None:
                bar.update(len(page.papers) + len(page.deleted))
            if not page.resumption_token:
                return report
            params = {"verb": "ListRecords", "resumptionToken": page.resumption_token}
    finally:
        if bar is not None:
            bar.close()


def _oai_page(session: PoliteSession, url: str, params: dict[str, str]) -> OaiPage:
    pages: list[OaiPage] = []

    def check(response) -> str | None:
        # An unreadable page (cut short) is retried like a network failure; a
        # client error (bad set, bad date) would fail the same way every time.
        if 400 <= response.status_code < 500 and response.status_code != 429:
            raise HarvestError(f"arXiv OAI-PMH answered HTTP {response.status_code}")
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        try:
            pages.append(parse_oai(response.content))
        except ET.ParseError as exc:
            return f"unreadable OAI-PMH page: {exc}"
        return None

    for round_ in range(1, FLOW_CONTROL_ROUNDS + 1):
        try:
            session.polite_get(url, params=params, check=check)
            return pages[-1]
        except ArxivUnavailable as exc:
            # polite_get has already pushed every process's next request past
            # arXiv's Retry-After; a harvest is worth waiting for. Without one,
            # arXiv is simply unreachable: polite_get's own retries were enough.
            if round_ == FLOW_CONTROL_ROUNDS or exc.retry_after is None:
                raise
            log.warning("OAI-PMH page not served yet (%s); waiting, round %d", exc, round_)
    raise AssertionError("unreachable")
