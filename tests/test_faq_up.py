"""`papermirror up` with a model configured: its LLM worker makes a FAQ for a real visit."""

from __future__ import annotations

import time

import pytest
import requests

from papermirror.faq.prompt import load
from tests import faqkit
from tests.llm_server import LlmServer
from tests.stack import Mirror

pytestmark = pytest.mark.slow


def test_up_runs_an_llm_worker_that_makes_the_faq(tmp_path, replay):
    with LlmServer(answer=faqkit.answer) as llm:
        mirror = Mirror.start(
            tmp_path / "data",
            replay.api_url,
            llm_url=llm.url,
            llm_model="test-model",
            faq_fulltext="never",
        )
        try:
            base = mirror.base
            deadline = time.monotonic() + 60
            while requests.get(f"{base}/arxiv/2104.12255", timeout=10).status_code != 200:
                assert time.monotonic() < deadline, "the paper never arrived"
                time.sleep(0.5)
            page = requests.get(f"{base}/arxiv/2104.12255", timeout=10).text
            assert 'class="faq-open"' in page
            url = f"{base}/api/papers/2104.12255/faq"
            assert requests.post(url, timeout=10).status_code == 202
            while (r := requests.get(url, timeout=10)).status_code == 202:
                assert time.monotonic() < deadline + 60, "the FAQ was never made"
                time.sleep(0.5)
            assert r.status_code == 200, r.text
            assert r.json()["model"] == "test-model" and len(r.json()["answers"]) == 6
            assert len(llm.chat_requests()) == len(load().questions) + 1
        finally:
            assert mirror.stop() == 0
