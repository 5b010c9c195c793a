"""The polite HTTP layer: every request to arXiv goes through here.

One :class:`PoliteSession` per client. It sends a descriptive User-Agent and
an Accept header, takes a slot from the global :class:`ArxivLimiter` for each
attempt, and retries transient failures with exponential backoff. Backoff is
applied through :meth:`ArxivLimiter.defer`, so when arXiv says "slow down" to
one process, every process slows down.

Redirects are followed here, not by ``requests``: each hop is a request of its
own and waits for its slot, only to arXiv's hosts, at most a few times. A
request's total time (not only each socket read) is bounded by the timeout,
so the limiter's lock lifetime, which covers the timeout, covers the request.
Each failed attempt is recorded in ``keys.ARXIV_TROUBLE`` with a short reason
code, so a waiting page can tell its reader at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from urllib.parse import urljoin, urlsplit

import requests

from papermirror import metrics
from papermirror.arxiv.failures import (
    RETRY_BODY,
    RETRY_STATUSES,
    TRANSIENT_ERRORS,
    ArxivUnavailable,
    RedirectRefused,
    parse_retry_after,
)
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.arxiv.status import REASON_CODES, record_answer, record_trouble
from papermirror.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["REASON_CODES", "ArxivUnavailable", "PoliteSession", "parse_retry_after"]

ACCEPT = "application/atom+xml, application/xml;q=0.9, */*;q=0.8"

# A check returns None when the response is usable, else why it should be retried.
Check = Callable[[requests.Response], str | None]


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class PoliteSession:
    """A ``requests.Session`` that obeys arXiv's rules; see the module docstring."""

    def __init__(self, settings: Settings, limiter: ArxivLimiter) -> None:
        self.settings = settings
        self.limiter = limiter
        limiter.cover(settings.arxiv_timeout)
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": settings.user_agent, "Accept": ACCEPT})
        self._endpoints = {
            urlsplit(u).netloc.lower()
            for u in (settings.arxiv_api_url, settings.arxiv_rss_url, settings.arxiv_oai_url)
            if u
        }

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

    def may_follow(self, url: str) -> bool:
        """Whether a redirect to ``url`` stays on arXiv (or a configured endpoint)."""
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.hostname:
            return False
        if split.netloc.lower() in self._endpoints:
            return True
        host = split.hostname.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.settings.arxiv_hosts)

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
        Redirects to arXiv's hosts are followed, each hop in its own slot.

        Raises :class:`ArxivUnavailable` when no usable answer came after the
        last try, when arXiv asks to wait longer than ``arxiv_max_backoff``,
        or when it redirects off its hosts or too often.
        """
        tries = self.settings.arxiv_retries + 1
        reason, code = "no attempt made", "unreachable"
        for attempt in range(1, tries + 1):
            retry_after = None
            started = time.monotonic()
            try:
                response = self._follow(url, params)
            except RedirectRefused as exc:
                self._trouble(url, "redirect", 0.0)
                raise ArxivUnavailable(
                    f"GET {url}: {exc}", tries=attempt, code="redirect"
                ) from None
            except TRANSIENT_ERRORS as exc:
                reason = f"{type(exc).__name__}: {exc}"
                timed_out = isinstance(exc, requests.Timeout) or "timed out" in str(exc)
                code = "timeout" if timed_out else "unreachable"
            else:
                if response.status_code in RETRY_STATUSES:
                    reason, code = f"HTTP {response.status_code}", "error"
                    if response.status_code in (429, 503):
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        if retry_after is None and (m := RETRY_BODY.search(response.content)):
                            retry_after = float(m.group(1))
                    if response.status_code == 429 or retry_after is not None:
                        code = "rate_limited"
                else:
                    reason = check(response) if check else None
                    if reason is None:
                        self._answered(url, time.monotonic() - started)
                        return response
                    code = "malformed"
            # Back off even after the last try: the next caller, in any
            # process, must also respect Retry-After and the backoff.
            try:
                wait = self._wait_after_failure(attempt, retry_after, url, reason, tries)
            except ArxivUnavailable as exc:
                exc.code = code
                self._trouble(url, code, retry_after or 0.0)
                raise
            self._trouble(url, code, wait)
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
            f"GET {url} failed after {tries} tries: {reason}",
            tries=tries,
            retry_after=retry_after,
            code=code,
        )

    def _follow(self, url: str, params: Mapping[str, str] | None) -> requests.Response:
        for _hop in range(self.settings.arxiv_max_redirects + 1):
            response = self._send(url, params)
            if response.status_code not in _REDIRECTS or "Location" not in response.headers:
                return response
            target = urljoin(response.url, response.headers["Location"])
            if not self.may_follow(target):
                raise RedirectRefused(f"redirected off arXiv's hosts, to {target[:200]}")
            log.info("arXiv redirected %s to %s", response.url, target)
            url, params = target, None
        raise RedirectRefused(f"more than {self.settings.arxiv_max_redirects} redirects")

    def _send(self, url: str, params: Mapping[str, str] | None) -> requests.Response:
        """One request in one limiter slot, counted in the metrics with its wait and outcome."""
        asked, waited, outcome = time.monotonic(), None, "error"
        try:
            with self.limiter.slot():
                waited = time.monotonic() - asked
                response = self._get_bounded(url, params)
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

    def _get_bounded(self, url: str, params: Mapping[str, str] | None) -> requests.Response:
        """One GET, no redirects, whose whole answer must arrive within the timeout."""
        timeout = self.settings.arxiv_timeout
        deadline = time.monotonic() + timeout
        response = self.session.get(
            url, params=params, timeout=timeout, stream=True, allow_redirects=False
        )
        try:
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if time.monotonic() > deadline:
                    raise requests.Timeout(f"the answer took longer than {timeout:.0f}s")
        except BaseException:
            response.close()  # drop the connection: arXiv must see we gave up
            raise
        response._content = bytes(body)
        response._content_consumed = True
        return response

    # Only the API's health is recorded: first visits depend on it alone, and a feed
    # host that fails (or answers) says nothing about it.
    def _answered(self, url: str, seconds: float) -> None:
        if self._is_api(url):
            record_answer(self.limiter.redis, seconds)

    def _trouble(self, url: str, code: str, wait: float) -> None:
        if self._is_api(url):
            record_trouble(self.limiter.redis, code, wait, self.settings.arxiv_timeout)

    def _is_api(self, url: str) -> bool:
        api = self.settings.arxiv_api_url
        return bool(api) and url.split("?", 1)[0] == api.split("?", 1)[0]

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
