"""The polite HTTP layer: every request to arXiv goes through here.

One :class:`PoliteSession` per client. It sends a descriptive User-Agent and
an Accept header, takes a slot from the global :class:`ArxivLimiter` for each
attempt, and retries transient failures with exponential backoff. Backoff is
applied through :meth:`ArxivLimiter.defer`, so when arXiv says "slow down" to
one process, every process slows down.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC

import requests

from papermirror import metrics
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.settings import Settings

log = logging.getLogger(__name__)

ACCEPT = "application/atom+xml, application/xml;q=0.9, */*;q=0.8"

# Statuses that mean "try again later" rather than "your request is wrong".
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# OAI-PMH flow control also says it in the body of its 503: "Retry after 10 seconds".
_RETRY_BODY = re.compile(rb"Retry after (\d+) seconds", re.I)

# Failures of the network or of arXiv, worth another try; a bad URL is not.
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

# A Retry-After longer than this is treated as a server bug rather than obeyed
# for an hour-plus by every process.

# A check returns None when the response is usable, else why it should be retried.
Check = Callable[[requests.Response], str | None]


class ArxivUnavailable(Exception):
    """arXiv could not be reached or kept failing after every allowed try."""

    def __init__(self, message: str, tries: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.tries = tries
        self.retry_after = retry_after


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


class PoliteSession:
    """A ``requests.Session`` that obeys arXiv's rules; see the module docstring."""

    def __init__(self, settings: Settings, limiter: ArxivLimiter) -> None:
        self.settings = settings
        self.limiter = limiter
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": settings.user_agent, "Accept": ACCEPT})

    def close(self) -> None:
        """Close the pooled connection."""
        self.session.close()

    def __enter__(self) -> PoliteSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1, 2, ...)."""
        base = max(self.settings.arxiv_min_interval, 0.1)
        return min(self.settings.arxiv_max_backoff, base * 2**failures)

    def polite_get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        check: Check | None = None,
    ) -> requests.Response:
        """GET ``url`` through the limiter, retrying what is worth retrying.

        Connection errors, timeouts, 5xx and 429 are retried up to
        ``settings.arxiv_retries`` times; ``Retry-After`` on 429/503 is obeyed
        by every process. ``check`` may reject a 2xx/4xx response (for example
        unparseable XML) to have it retried too. Other 4xx responses are
        returned as they are: arXiv's API explains a 400 in its body.

        Raises :class:`ArxivUnavailable` when no usable answer came after the
        last try, or when arXiv asks to wait longer than ``arxiv_max_backoff``.
        """
        tries = self.settings.arxiv_retries + 1
        reason = "no attempt made"
        for attempt in range(1, tries + 1):
            retry_after = None
            try:
                response = self._send(url, params)
            except TRANSIENT_ERRORS as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in RETRY_STATUSES:
                    reason = f"HTTP {response.status_code}"
                    if response.status_code in (429, 503):
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        if retry_after is None and (m := _RETRY_BODY.search(response.content)):
                            retry_after = float(m.group(1))
                else:
                    reason = check(response) if check else None
                    if reason is None:
                        return response
            # Back off even after the last try: the next caller, in any
            # process, must also respect Retry-After and the backoff.
            wait = self._wait_after_failure(attempt, retry_after, url, reason, tries)
            if attempt == tries:
                break
            log.warning(
                "arXiv %s failed (%s), try %d of %d; retrying in %.1fs",
                url,
                reason,
                attempt,
                tries,
                wait,
            )
        raise ArxivUnavailable(
            f"GET {url} failed after {tries} tries: {reason}", tries=tries, retry_after=retry_after
        )

    def _send(self, url: str, params: Mapping[str, str] | None) -> requests.Response:
        """One request in one limiter slot, counted in the metrics with its wait and outcome."""
        asked, waited, outcome = time.monotonic(), None, "error"
        try:
            with self.limiter.slot():
                waited = time.monotonic() - asked
                response = self.session.get(url, params=params, timeout=self.settings.arxiv_timeout)
            outcome = "ok" if response.status_code < 400 else f"http_{response.status_code}"
            return response
        except requests.Timeout:
            outcome = "timeout"
            raise
        except requests.ConnectionError:
            outcome = "connection"
            raise
        finally:
            metrics.arxiv_request(self.limiter.redis, url, outcome, waited)

    def _wait_after_failure(
        self, attempt: int, retry_after: float | None, url: str, reason: str, tries: int
    ) -> float:
        if retry_after is None:
            return self.limiter.defer(self.backoff(attempt))
        # Retry-After binds everyone, in full: retrying before it would break
        # arXiv's rules. If it is longer than we may wait, give up this call
        # instead of waiting past arxiv_max_backoff.
        wait = self.limiter.defer(retry_after)
        if retry_after > self.settings.arxiv_max_backoff:
            raise ArxivUnavailable(
                f"GET {url}: {reason}, arXiv asked to retry after {retry_after:.0f}s, "
                f"more than arxiv_max_backoff={self.settings.arxiv_max_backoff:.0f}s "
                f"(gave up after {attempt} of {tries} tries)",
                tries=attempt,
                retry_after=retry_after,
            )
        return wait
