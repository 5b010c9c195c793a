"""The FAQ jobs: generate one paper version's FAQ, and prefetch after the daily fetch.

They run on their own queues (``keys.FAQ_QUEUES``: a reader's click, today's
papers, the backlog, in that order of priority), served by the LLM workers
that ``papermirror up`` starts only when a model is configured.
"""

from __future__ import annotations

import logging

import redis
from rq import Queue

from papermirror import keys
from papermirror.faq.cache import FaqKey, FaqStore
from papermirror.faq.generate import Generator
from papermirror.faq.prefetch import candidates
from papermirror.settings import Settings
from worker.context import context

log = logging.getLogger(__name__)

GENERATE_JOB = "worker.faq.generate_faq"
PRIORITIES = dict(zip(("click", "today", "backlog"), keys.FAQ_QUEUES, strict=True))
# Seven chat requests, each allowed llm_timeout of silence, a few retries.
JOB_TIMEOUT = 3600


def generate_faq(paper_id: str, version: int, language: str, regenerate: bool = False) -> dict:
    """Generate the FAQ of ``paper_id`` v``version`` in ``language`` (see papermirror.faq)."""
    settings, client, session = context()
    return (
        Generator(settings, client, session).run(paper_id, version, language, regenerate).to_dict()
    )


def enqueue(client: redis.Redis, key: FaqKey, priority: str, regenerate: bool = False) -> None:
    """Put one generation on the queue of its priority."""
    Queue(PRIORITIES[priority], connection=client).enqueue(
        GENERATE_JOB,
        args=(key.id, key.version, key.language),
        kwargs={"regenerate": regenerate},
        job_timeout=JOB_TIMEOUT,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"FAQ {key.id}v{key.version} {key.language} ({priority})",
    )


def prefetch(settings: Settings, client: redis.Redis, outcomes: list[dict]) -> int:
    """Queue the FAQs of the day's papers in PAPERMIRROR_FAQ_CATEGORIES; returns how many."""
    faqs = FaqStore(client)
    queued = 0
    for key, priority in candidates(settings, client, outcomes):
        if faqs.claim(key, priority) == "claimed":
            enqueue(client, key, priority)
            queued += 1
    if queued:
        log.info("queued %d FAQs to make in advance", queued)
    return queued
