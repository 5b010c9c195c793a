"""How arXiv's failures are read: which are worth another try, and how long to wait.

Pure: no I/O. :class:`papermirror.arxiv.http.PoliteSession` acts on these.
"""

from __future__ import annotations

import email.utils
import re
import time
from datetime import UTC

import requests

# Statuses that mean "try again later" rather than "your request is wrong".
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# OAI-PMH flow control also says it in the body of its 503: "Retry after 10 seconds".
RETRY_BODY = re.compile(rb"Retry after (\d+) seconds", re.I)

# Failures of the network or of arXiv, worth another try; a bad URL is not.
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class ArxivUnavailable(Exception):
    """arXiv could not be reached or kept failing after every allowed try.

    ``code`` is a short reason a reader may be shown (see :data:`REASON_CODES`);
    the message is the detail, for logs and the operator only.
    """

    def __init__(
        self,
        message: str,
        tries: int = 0,
        retry_after: float | None = None,
        code: str = "unreachable",
    ) -> None:
        super().__init__(message)
        self.tries = tries
        self.retry_after = retry_after
        self.code = code


class RedirectRefused(Exception):
    """A redirect off arXiv's hosts, or too many of them."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
