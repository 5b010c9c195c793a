"""arXiv's health as the mirror last saw it, kept in Redis for every waiting page.

The polite HTTP layer records each failed attempt (a short reason code, since
when, and when the next attempt may go) in ``keys.ARXIV_TROUBLE``, and deletes
it at the next usable answer, whose duration feeds a moving average in
``keys.ARXIV_RTT``. Pages read both to tell their readers at once, in plain
words, and to estimate how long a fetch will take.
"""

from __future__ import annotations

import logging
import time

import redis

from papermirror import keys

log = logging.getLogger(__name__)

# Why a request failed, in words a reader may see; never the exception text.
REASON_CODES = {
    "unreachable": "arXiv did not answer",
    "timeout": "arXiv did not answer in time",
    "rate_limited": "arXiv is rate-limiting us",
    "error": "arXiv answered with an error",
    "malformed": "arXiv sent an incomplete answer",
    "redirect": "arXiv sent us somewhere we do not follow",
    "refused": "arXiv refused the request",
}


def record_answer(client: redis.Redis, seconds: float) -> None:
    """Note a usable answer: arXiv is fine again, and it took ``seconds``."""
    try:
        old = client.get(keys.ARXIV_RTT)
        rtt = seconds if old is None else 0.7 * float(old) + 0.3 * seconds
        with client.pipeline(transaction=False) as pipe:
            pipe.set(keys.ARXIV_RTT, f"{rtt:.4f}")
            pipe.delete(keys.ARXIV_TROUBLE)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not record arXiv's answer time: %s", exc)


def record_trouble(client: redis.Redis, code: str, wait: float, timeout: float) -> None:
    """Tell waiting pages that arXiv is failing, why, and when the next attempt may go."""
    now = time.time()
    try:
        old = client.get(keys.ARXIV_TROUBLE)
        since = old.decode().split("|")[1] if old else f"{now:.0f}"
        ttl = int(wait + timeout + 120)
        client.set(keys.ARXIV_TROUBLE, f"{code}|{since}|{now + wait:.0f}", ex=ttl)
        client.publish(keys.FETCH_DONE, "")
    except redis.RedisError as exc:
        log.warning("could not record arXiv's trouble: %s", exc)
