"""The arXiv API client: ``id_list`` queries, batched into polite requests.

The answers are parsed by :mod:`papermirror.arxiv.api_feed` (re-exported here).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import requests

from papermirror.arxiv.api_feed import ApiResult, MalformedFeed, canonical_id, parse_api_feed
from papermirror.arxiv.http import ArxivUnavailable, PoliteSession
from papermirror.ids import parse_id
from papermirror.records import Paper, merge
from papermirror.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "ApiClient",
    "ApiResult",
    "ArxivError",
    "ArxivUnavailable",
    "FetchResult",
    "MalformedFeed",
    "canonical_id",
    "parse_api_feed",
]

BATCH_SIZE = 100
# Ids arXiv may reject from one batch before we stop resending the rest.
MAX_REJECTED_PER_BATCH = 3


class ArxivError(Exception):
    """arXiv answered with its Error feed (HTTP 400 for a malformed id).

    ``bad_id`` names the id arXiv rejected when its error id says so
    (``…/api/errors#incorrect_id_format_for_<id>``); ``ids`` is the batch sent.
    """

    def __init__(
        self, message: str, status: int, ids: Sequence[str] = (), bad_id: str | None = None
    ):
        super().__init__(message)
        self.status = status
        self.ids = list(ids)
        self.bad_id = bad_id


@dataclass
class FetchResult:
    """Outcome of :meth:`ApiClient.fetch`.

    ``found`` is keyed by canonical id; ``missing`` lists requested ids arXiv
    silently dropped; ``invalid`` lists ids that are not arXiv ids at all and
    were never sent.
    """

    found: dict[str, Paper] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    requests: int = 0


class ApiClient:
    """Fetches papers by id from the arXiv API, politely and in batches.

    Several processes may call :meth:`fetch` at once: every request still
    goes through the shared limiter of the :class:`PoliteSession`.
    """

    def __init__(self, settings: Settings, session: PoliteSession) -> None:
        self.settings = settings
        self.session = session

    def fetch(self, ids: Sequence[str]) -> FetchResult:
        """Fetch ``ids`` (canonical or versioned), at most 100 per request.

        Ids are normalized with :func:`papermirror.ids.parse_id` (so
        ``math.GT/0309136`` is sent as ``math/0309136``); ids it rejects land
        in ``invalid`` and are never sent. A versioned id asks for that version;
        ``missing`` keeps the version so a missing ``v9`` does not mark the
        whole paper missing.

        A malformed id in a batch makes arXiv answer HTTP 400 with its Error
        feed, failing the other 99 ids too. Callers should validate ids before
        queueing them; if arXiv still rejects one (its rules are stricter than
        ours), the id it names is moved to ``invalid`` and the rest of the
        batch is sent again (up to ``MAX_REJECTED_PER_BATCH`` times). An error that names
        no id of the batch raises :class:`ArxivError`: retrying the same ids
        cannot help. :class:`ArxivUnavailable` means no usable answer after
        every retry (network, 5xx, 429, malformed XML); the ids are neither
        found nor missing and should be tried again later.
        """
        result = FetchResult()
        wanted: dict[str, None] = {}
        for raw in ids:
            ref = parse_id(raw)
            if ref is None:
                result.invalid.append(raw)
            else:
                wanted[str(ref)] = None
        queue = list(wanted)
        for start in range(0, len(queue), BATCH_SIZE):
            self._fetch_batch(queue[start : start + BATCH_SIZE], result)
        return result

    def _fetch_batch(self, batch: list[str], result: FetchResult) -> None:
        for resend in range(MAX_REJECTED_PER_BATCH + 1):
            parsed, response = self._request(batch)
            result.requests += 1
            if parsed.error is None and response.status_code == 200:
                for paper in parsed.papers:
                    # id_list may name one paper in two versions: keep the newest.
                    result.found[paper.id] = merge(result.found.get(paper.id), paper)
                result.missing.extend(i for i in batch if canonical_id(i)[0] not in result.found)
                return
            error = ArxivError(
                f"arXiv API answered HTTP {response.status_code}: "
                f"{parsed.error or response.reason or 'no Error feed'}",
                status=response.status_code,
                ids=batch,
                bad_id=_bad_id(parsed.error_id),
            )
            if error.bad_id not in batch or resend == MAX_REJECTED_PER_BATCH:
                raise error
            log.warning("arXiv rejected id %r; sending the rest of its batch again", error.bad_id)
            result.invalid.append(error.bad_id)
            batch = [i for i in batch if i != error.bad_id]
            if not batch:
                return

    def _request(self, batch: list[str]) -> tuple[ApiResult, requests.Response]:
        parsed: list[ApiResult] = []

        def check(response: requests.Response) -> str | None:
            try:
                parsed[:] = [parse_api_feed(response.content)]
            except MalformedFeed as exc:
                if response.status_code >= 400:
                    # A 4xx without a feed (404, 406...) is an answer, not noise.
                    parsed[:] = [ApiResult()]
                    return None
                return str(exc)
            return None

        params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
        response = self.session.polite_get(self.settings.arxiv_api_url, params, check=check)
        return parsed[0], response


def _bad_id(error_id: str | None) -> str | None:
    prefix = "#incorrect_id_format_for_"
    if error_id and prefix in error_id:
        return error_id.split(prefix, 1)[1]
    return None
