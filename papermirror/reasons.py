"""Short, plain reasons for readers, from the full error text kept for operators.

A fetch error's text (``GET https://rss.arxiv.org/rss/cs.AI failed after 4
tries: ConnectionError: HTTPConnectionPool(...)``) names arXiv's internal URLs
and, for batched fetches, other readers' ids. Readers see only the kind of
failure; the text itself goes to the logs, /admin and ``papermirror status``.
"""

from __future__ import annotations

import re

_RETRY_AFTER = re.compile(r"retry after (\d+)", re.I)

# (pattern in the error text, what a reader is told), first match wins.
_KINDS = [
    (re.compile(r"HTTP 429|asked to retry after|Retry-After", re.I), "arXiv is rate-limiting us"),
    (re.compile(r"Timeout|timed out", re.I), "arXiv did not answer in time"),
    (
        re.compile(r"ConnectionError|Connection refused|RemoteDisconnected|reset", re.I),
        "arXiv did not answer",
    ),  # fmt: skip
    (re.compile(r"HTTP 5\d\d", re.I), "arXiv answered with a server error"),
    (re.compile(r"HTTP 4\d\d", re.I), "arXiv refused the request"),
    (re.compile(r"not an arXiv category", re.I), "not an arXiv category"),
    (re.compile(r"^Feed error|feed error", re.I), "arXiv has no feed for it"),
    (re.compile(r"pubDate|announcement date", re.I), "the feed had no announcement date"),
    (
        re.compile(r"ChunkedEncoding|ContentDecoding|parse|XML", re.I),
        "arXiv's answer was incomplete",
    ),  # fmt: skip
]
GENERIC = "the fetch failed"


def plain_reason(error: str | None) -> str:
    """The kind of failure behind an error text, in a few plain words (never the text)."""
    if not error:
        return ""
    for pattern, reason in _KINDS:
        if pattern.search(error):
            return reason
    return GENERIC


def feed_status(outcome: dict | None) -> str:
    """What the home page says about one followed term's last feed fetch."""
    if not outcome:
        return "never fetched"
    status = outcome.get("status")
    if status == "ok":
        return "ok"
    if status == "empty":
        return "no announcement that day"
    if status == "stale":
        attempt = outcome.get("attempt") or 1
        return "feed not updated yet" + (f" (try {attempt})" if attempt > 1 else "")
    reason = plain_reason(outcome.get("error"))
    if outcome.get("retry"):
        reason += "; will retry"
    return reason
