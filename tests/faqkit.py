"""Shared pieces of the FAQ tests: a paper, settings, and a model that answers by question."""

from __future__ import annotations

import re

from papermirror.records import Author, Paper, Version
from papermirror.settings import Settings
from papermirror.store import Store
from tests.stack import stack_settings

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_LICENCE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
HTML_FIXTURE = "html2025_2501.11120v1_latexml.html.gz"
PAPER_ID = "2501.11120"
ABSTRACT = (
    "We study behavioral self-awareness, an LLM's ability to articulate its behaviors "
    "without requiring in-context examples. We finetune LLMs on datasets with $z \\in Z$."
)
TLDR = "Finetuned language models can describe behaviours they were trained into."


def paper(paper_id: str = PAPER_ID, version: int = 1, licence: str | None = CC_BY) -> Paper:
    """A paper record like the API gives (the real title and authors of 2501.11120)."""
    return Paper(
        id=paper_id,
        version=version,
        title="Tell me about yourself: LLMs are aware of their learned behaviors",
        authors=(Author("Jan Betley"), Author("Xuchan Bao"), Author("Owain Evans")),
        abstract=ABSTRACT,
        categories=("cs.CL", "cs.AI"),
        published="2025-01-19T18:00:00Z",
        updated="2025-01-19T18:00:00Z",
        versions=tuple(Version(n) for n in range(1, version + 1)),
        license=licence,
        source="api",
    )


def put_paper(redis_client, **kwargs) -> Paper:
    """Store a paper record and return it."""
    p = paper(**kwargs)
    Store(redis_client).upsert(p)
    return p


def answer(messages: list[dict]) -> str:
    """The test model: a TL;DR sentence, or Markdown with math naming the question."""
    question = re.search(r"Question: (.*)$", messages[-1]["content"], re.S)
    q = question[1].strip() if question else "?"
    if "one sentence" in q:
        return TLDR
    return f"**Answer** to “{q}”: the loss is $L = \\sum_i x_i^2$.\n\n- first point\n- second point"


def faq_settings(redis_url: str, llm_url: str, replay_url: str = "", **overrides) -> Settings:
    """Settings with the FAQ on: the test model, the replay arXiv for full texts, fast timeouts."""
    values = dict(
        llm_url=llm_url,
        llm_model="test-model",
        llm_timeout=3.0,
        arxiv_html_url=(replay_url or "http://127.0.0.1:9") + "/html/",
        faq_language=("en", "zh"),
    )
    values.update(overrides)
    return stack_settings(redis_url, (replay_url or "http://127.0.0.1:9") + "/api/query", **values)
