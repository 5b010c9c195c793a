"""The FAQ's web side: its API, its event stream, the pages, coalescing and the daily prefetch.

The app runs on the test Redis; FAQ jobs run in real RQ workers (SimpleWorker,
in this process) against the local OpenAI-compatible server.
"""

from __future__ import annotations

import json
import signal
import threading

import pytest
from rq import Queue, SimpleWorker

from papermirror import keys
from papermirror.faq.cache import FaqKey, FaqStore
from papermirror.faq.prompt import load
from papermirror.listings import Entry, Listings
from server import create_app
from tests import faqkit
from tests.llm_server import LlmServer

QUESTIONS = len(load().questions) + 1
URL = f"/api/papers/{faqkit.PAPER_ID}/faq"
FAQ_KEYS = {"id", "version", "language", "model", "source", "generated", "tldr", "answers"}


@pytest.fixture
def llm():
    with LlmServer(answer=faqkit.answer) as server:
        yield server


@pytest.fixture
def env(redis_url, llm, replay, monkeypatch):
    """Settings with the FAQ on, also in the environment that worker jobs read."""
    from worker.context import context

    replay.clear()
    replay.route(f"/html/{faqkit.PAPER_ID}v1", faqkit.HTML_FIXTURE)

    def apply(**overrides):
        settings = faqkit.faq_settings(redis_url, llm.url, replay.url, **overrides)
        for name, value in settings.to_env().items():
            monkeypatch.setenv(name, value)
        context.cache_clear()
        return settings

    yield apply
    context.cache_clear()


@pytest.fixture
def app(env, redis_client):
    faqkit.put_paper(redis_client)
    return create_app(env())


def run_jobs(client) -> None:
    """Run every queued FAQ job, in priority order, in this process."""
    queues = [Queue(name, connection=client) for name in keys.FAQ_QUEUES]
    # RQ installs its own SIGTERM/SIGINT handlers in this (the pytest) process; put
    # pytest's back, or a later test's forked processes could not be terminated.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        SimpleWorker(queues, connection=client).work(burst=True, logging_level="WARNING")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def queued(client) -> int:
    return sum(Queue(name, connection=client).count for name in keys.FAQ_QUEUES)


def sse(body: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent events body."""
    out = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


def test_post_queues_once_and_get_reads_it(app, redis_client, llm):
    web = app.test_client()
    r = web.get(URL)
    assert r.status_code == 404 and r.json["older"] == [] and "No FAQ" in r.json["error"]
    assert queued(redis_client) == 0  # a GET never starts a generation
    r = web.post(URL)
    assert r.status_code == 202 and r.json["status"] == "queued"
    assert r.json["stream"].startswith(URL + "/stream")
    assert web.post(URL).json == r.json  # idempotent
    assert queued(redis_client) == 1
    assert web.get(URL).status_code == 202
    run_jobs(redis_client)
    r = web.get(URL)
    assert r.status_code == 200 and set(r.json) == FAQ_KEYS
    assert r.json["tldr"] == faqkit.TLDR and r.json["source"] == "fulltext"
    assert r.json["answers"][0] == {
        "question": "What problem does this paper try to solve?",
        "answer": faqkit.answer(
            [{"content": "Question: What problem does this paper try to solve?"}]
        ),
    }
    assert web.post(URL).status_code == 200  # cached: nothing queued
    assert queued(redis_client) == 0
    assert len(llm.chat_requests()) == QUESTIONS


def test_fifty_simultaneous_clicks_make_one_generation(app, redis_client, llm):
    barrier = threading.Barrier(50)
    statuses = []

    def click():
        web = app.test_client()
        barrier.wait()
        statuses.append(web.post(URL).status_code)

    threads = [threading.Thread(target=click) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [202] * 50
    assert queued(redis_client) == 1
    run_jobs(redis_client)
    assert len(llm.chat_requests()) == QUESTIONS


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}, 202),
        ({}, 202),  # curl, scripts
    ],
)
def test_cross_site_posts_are_refused(app, redis_client, headers, status):
    r = app.test_client().post(URL, headers=headers)
    assert r.status_code == status
    if status == 403:
        assert queued(redis_client) == 0 and "cross-site" in r.json["error"]


def test_without_a_model_the_api_says_so_and_the_button_is_absent(redis_url, redis_client):
    from tests.stack import stack_settings

    faqkit.put_paper(redis_client)
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api/query"))
    web = app.test_client()
    for r in (web.get(URL), web.post(URL), web.get(URL + "/stream")):
        assert r.status_code == 503
        assert "no language model configured" in r.json["error"]
    page = web.get(f"/arxiv/{faqkit.PAPER_ID}").get_data(as_text=True)
    assert "faq-open" not in page and "faq.js" not in page
    about = web.get("/faq/about").get_data(as_text=True)
    assert "no language model configured" in about and "PAPERMIRROR_LLM_URL" in about
    assert queued(redis_client) == 0


@pytest.mark.parametrize("path", [f"/arxiv/{faqkit.PAPER_ID}", "/arxiv/cs.CL?date=2025-01-20"])
def test_turning_the_faq_on_changes_the_etag_so_no_304_keeps_old_markup(
    redis_url, redis_client, path
):
    from papermirror.listings import Entry, Listings
    from tests.stack import stack_settings

    faqkit.put_paper(redis_client)
    Listings(redis_client).write_day("2025-01-20", {"cs.CL": [Entry(faqkit.PAPER_ID, "new", 1)]})
    off = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api/query")).test_client()
    before = off.get(path)
    assert before.status_code == 200 and "faq-open" not in before.get_data(as_text=True)
    on = create_app(faqkit.faq_settings(redis_url, "http://127.0.0.1:9/v1")).test_client()
    # A browser revalidating the page it got before the operator configured a model.
    after = on.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "faq-open" in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_bad_requests_get_clear_errors(app):
    web = app.test_client()
    assert web.get("/api/papers/not-an-id/faq").status_code == 404
    assert web.get(URL + "?lang=xx").status_code == 400
    assert "en, zh" in web.get(URL + "?lang=xx").json["error"]
    assert web.get(URL + "?version=7").status_code == 404
    assert web.get(URL + "?version=abc").status_code == 400
    assert web.get("/api/papers/2104.99999/faq").status_code == 404


def test_a_failure_is_reported_in_plain_words_and_a_click_tries_again(app, redis_client, llm):
    llm.inject("401", times=1)
    web = app.test_client()
    web.post(URL)
    run_jobs(redis_client)
    r = web.get(URL)
    assert r.status_code == 503
    assert r.json["error"].startswith("The model server refused the API key (HTTP 401).")
    events = sse(web.get(URL + "/stream").get_data(as_text=True))
    assert events[-1][0] == "end" and events[-1][1]["status"] == "failed"
    assert "HTTP 401" in events[-1][1]["error"]
    assert web.post(URL).status_code == 202  # a new click tries again
    run_jobs(redis_client)
    assert web.get(URL).status_code == 200


def test_the_stream_replays_a_cached_faq_as_sanitised_html(app, redis_client):
    web = app.test_client()
    web.post(URL)
    run_jobs(redis_client)
    r = web.get(URL + "/stream")
    assert r.mimetype == "text/event-stream"
    events = sse(r.get_data(as_text=True))
    names = [e for e, _ in events]
    assert names[0] == "meta" and names[-1] == "end" and names.count("answer") == QUESTIONS
    first = events[2][1]
    assert "<strong>Answer</strong>" in first["html"]
    assert '<span class="math inline">\\(L = \\sum_i x_i^2\\)</span>' in first["html"]
    assert events[-1][1]["model"] == "test-model" and events[-1][1]["source"] == "fulltext"
    poll = web.get(URL + "/stream?poll=1").json
    assert len(poll["answers"]) == QUESTIONS and poll["end"]["status"] == "done"


HOSTILE = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    "<iframe src=https://evil.example></iframe>",
    '<a href="https://evil.example" onclick="alert(1)">x</a>',
    "**unclosed <b>bold",
    "```html\n<script>alert(2)</script>",
    "[x](JaVaScRiPt:alert(1)) ![i](data:text/html,<script>alert(3)</script>)",
    "$<script>alert(4)</script>$",
    "<style>body{display:none}</style>",
]


SAFE_TAGS = {"p", "em", "strong", "code", "pre", "a", "span", "div", "ul", "ol", "li", "br", "b"}


def tags_of(html: str) -> list[tuple[str, list]]:
    """Every element start tag in ``html``, as a browser's parser sees it."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_hostile_model_output_shows_as_harmless_text(app, redis_client, llm):
    llm.answer = lambda messages: "\n\n".join(HOSTILE)
    web = app.test_client()
    web.post(URL)
    run_jobs(redis_client)
    for _, data in sse(web.get(URL + "/stream").get_data(as_text=True)):
        for tag, attrs in tags_of(data.get("html", "")):
            assert tag in SAFE_TAGS, tag
            for name, value in attrs:
                assert not name.startswith("on") and name in ("href", "class", "rel", "title")
                if name == "href":
                    assert value.startswith(("http://", "https://", "mailto:")), value
    answers = [d for e, d in sse(web.get(URL + "/stream").get_data(as_text=True)) if e == "answer"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answers[1]["html"]  # shown, as text
    # The TL;DR comes as text, never HTML; the page sets it as a text node.
    assert "html" not in answers[0] and "<script>" in answers[0]["text"]


def test_v1_faq_is_offered_when_v2_exists(app, redis_client):
    web = app.test_client()
    web.post(URL)
    run_jobs(redis_client)
    faqkit.put_paper(redis_client, version=2)
    r = web.get(URL)  # the latest version: v2
    assert r.status_code == 404 and r.json["older"] == [1]
    assert web.get(URL + "?version=1").json["version"] == 1
    assert web.post(URL).status_code == 202  # v2 gets its own


def test_regenerate_is_limited_to_once_a_day(app, redis_client, llm):
    web = app.test_client()
    web.post(URL)
    run_jobs(redis_client)
    assert web.post(URL + "?regenerate=1").status_code == 202
    run_jobs(redis_client)
    assert len(llm.chat_requests()) == 2 * QUESTIONS
    r = web.post(URL + "?regenerate=1")
    assert r.status_code == 429 and "less than a day ago" in r.json["error"]


def test_pages_show_the_button_and_the_about_page_shows_the_prompt(app, redis_client):
    web = app.test_client()
    page = web.get(f"/arxiv/{faqkit.PAPER_ID}").get_data(as_text=True)
    assert 'class="faq-open"' in page and "faq.js" in page and "About the FAQ" in page
    Listings(redis_client).write_day("2025-01-20", {"cs.CL": [Entry(faqkit.PAPER_ID, "new", 1)]})
    listing = web.get("/arxiv/cs.CL?date=2025-01-20").get_data(as_text=True)
    assert f'data-faq="{faqkit.PAPER_ID}"' in listing
    about = web.get("/faq/about").get_data(as_text=True)
    for question in load().questions:
        assert question.replace("'", "&#39;") in about
    assert "CC BY" in about and "never stored" in about


def test_the_daily_prefetch_runs_after_the_daily_fetch_below_a_click(
    env, redis_client, replay, llm
):
    from worker.feeds import daily_fetch

    env(
        faq_categories=("cs.LG",),
        arxiv_rss_url=replay.url + "/rss/",
        categories=("cs.LG",),
    )
    replay.route("/rss/cs.LG", "rss2026_multi_cs.LG_cs.AI_cs.CL_stat.ML_trimmed4items.xml")
    result = daily_fetch(categories=["cs.LG"])
    assert result["faq_queued"] >= 1
    waiting = [
        (job.args[0], job.args[1])
        for name in keys.FAQ_QUEUES[1:]
        for job in Queue(name, connection=redis_client).jobs
    ]
    assert len(waiting) == result["faq_queued"]
    assert Queue(keys.FAQ_QUEUES[1], connection=redis_client).count >= 1  # today's new papers
    # A reader clicks on another paper: that job is taken first.
    faqkit.put_paper(redis_client)
    app = create_app(env(faq_categories=("cs.LG",)))
    assert app.test_client().post(URL).status_code == 202
    run_jobs(redis_client)
    asked = [r.user_text for r in llm.chat_requests()]
    assert all(f"arXiv id: {faqkit.PAPER_ID}v1" in t for t in asked[:QUESTIONS])
    assert all(f"arXiv id: {faqkit.PAPER_ID}" not in t for t in asked[QUESTIONS:])
    faqs = FaqStore(redis_client)
    for paper_id, version in waiting:
        assert faqs.get(FaqKey(paper_id, version, "en", "test-model")) is not None
    assert len(asked) == QUESTIONS * (1 + len(waiting))
    # A second daily fetch of the same day queues nothing new.
    assert daily_fetch(categories=["cs.LG"]).get("faq_queued") == 0


def test_open_streams_are_capped_and_released(env, redis_client):
    faqkit.put_paper(redis_client)
    app = create_app(env(web_threads=16))  # four streams at once
    web = app.test_client()
    assert web.post(URL).status_code == 202  # queued: a stream would wait for text
    held = [web.get(URL + "/stream", buffered=False) for _ in range(4)]
    assert all(r.status_code == 200 for r in held)
    r = web.get(URL + "/stream")
    assert r.status_code == 429 and "poll" in r.json["error"]
    assert web.get(URL + "/stream?poll=1").status_code == 200  # polling still works
    for r in held:
        r.close()  # the readers leave, before a byte was read
    assert web.get(URL + "/stream", buffered=False).status_code == 200


def test_a_broken_operator_prompt_is_reported_without_its_details(env, redis_client, tmp_path):
    broken = tmp_path / "secret-dir" / "prompt.toml"
    app = create_app(env(faq_prompt=str(broken)))
    about = app.test_client().get("/faq/about").get_data(as_text=True)
    assert "could not be read" in about and "secret-dir" not in about
    assert "What problem does this paper try to solve?" in about  # the built-in one


def test_a_generation_whose_worker_died_can_be_started_again(app, redis_client):
    key = FaqKey(faqkit.PAPER_ID, 1, "en", "test-model")
    faqs = FaqStore(redis_client)
    web = app.test_client()
    web.post(URL)
    faqs.set_state(key, status="generating")  # ... and the worker was killed: no lock
    r = web.get(URL)
    assert r.status_code == 503 and "stopped before it finished" in r.json["error"]
    assert Queue(keys.FAQ_QUEUES[0], connection=redis_client).count == 1
    Queue(keys.FAQ_QUEUES[0], connection=redis_client).empty()
    assert web.post(URL).json["status"] == "queued"
    assert queued(redis_client) == 1
    run_jobs(redis_client)
    assert web.get(URL).status_code == 200
