"""Answers reach readers while the model writes: SSE over real HTTP, from a job on another app.

The generation runs in a thread (as a worker would) with the model slowed down;
a reader on a different app instance (another web process, as far as Redis is
concerned) follows the stream over a real socket and sees text grow before
the generation ends.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from papermirror.faq.generate import Generator
from server import create_app
from tests import faqkit
from tests.llm_server import LlmServer

URL = f"/api/papers/{faqkit.PAPER_ID}/faq"


@pytest.fixture
def slow_llm():
    with LlmServer(answer=faqkit.answer, chunk_delay=0.03) as server:
        yield server


def read_events(response):
    event, data = None, None
    for raw in response.iter_lines(decode_unicode=True):
        if raw.startswith("event: "):
            event = raw[7:]
        elif raw.startswith("data: "):
            data = json.loads(raw[6:])
        elif raw == "" and event:
            yield event, data, time.monotonic()
            event, data = None, None


def test_answers_stream_in_across_web_processes(redis_url, redis_client, slow_llm, replay):
    faqkit.put_paper(redis_client)
    replay.route(f"/html/{faqkit.PAPER_ID}v1", faqkit.HTML_FIXTURE)
    settings = faqkit.faq_settings(redis_url, slow_llm.url, replay.url)
    clicker, reader = create_app(settings), create_app(settings)
    assert clicker.test_client().post(URL).status_code == 202
    server = make_server("127.0.0.1", 0, reader, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    finished = {}

    def generate():
        Generator(settings, redis_client, None).run(faqkit.PAPER_ID, 1, "en")
        finished["at"] = time.monotonic()

    worker = threading.Thread(target=generate)
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with requests.get(base + URL + "/stream", stream=True, timeout=60) as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            worker.start()
            events = list(read_events(r))
        worker.join()
    finally:
        server.shutdown()
    names = [e for e, _, _ in events]
    assert names[-1] == "end" and events[-1][1]["status"] == "done"
    assert events[-1][1]["source"] == "abstract" and events[-1][1]["model"] == "test-model"
    partial = [(d, t) for e, d, t in events if e == "answer" and not d["done"]]
    # Many partial renders of growing answers, the first long before the generation ended.
    assert len(partial) > 10
    assert partial[0][1] < finished["at"] - 1.0
    growing = [d["html"] for d, _ in partial if d["q"] == 0]
    assert len(growing) > 2 and len(growing[0]) < len(growing[-1])
    final = [d for e, d, _ in events if e == "answer" and d["done"] and d["q"] == 0][-1]
    assert "<strong>Answer</strong>" in final["html"]


def test_polling_reads_a_generation_in_progress(redis_url, redis_client, slow_llm, replay):
    faqkit.put_paper(redis_client)
    settings = faqkit.faq_settings(redis_url, slow_llm.url, replay.url, faq_fulltext="never")
    web = create_app(settings).test_client()
    assert web.post(URL).status_code == 202
    worker = threading.Thread(
        target=Generator(settings, redis_client, None).run, args=(faqkit.PAPER_ID, 1, "en")
    )
    worker.start()
    snapshots = []
    while worker.is_alive():
        snapshots.append(web.get(URL + "/stream?poll=1").json)
        time.sleep(0.2)
    worker.join()
    assert any(s["end"] is None and s["answers"] for s in snapshots)
    final = web.get(URL + "/stream?poll=1").json
    assert final["end"]["status"] == "done" and final["meta"]["source"] == "abstract"
