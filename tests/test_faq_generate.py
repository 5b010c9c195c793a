"""FAQ generation against the local OpenAI-compatible server and the replay arXiv.

Real Redis, real HTTP (the ``openai`` client to tests/llm_server.py, the
polite arXiv session to tests/replay.py), the real LaTeXML page as full text.
"""

from __future__ import annotations

import pytest

from papermirror import buckets, keys
from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.embedded import start as start_redis
from papermirror.faq.cache import FaqKey, FaqStore
from papermirror.faq.generate import Generator
from papermirror.faq.prompt import load
from tests import faqkit
from tests.llm_server import LlmServer

QUESTIONS = len(load().questions) + 1  # and the TL;DR


@pytest.fixture
def llm():
    with LlmServer(answer=faqkit.answer) as server:
        yield server


@pytest.fixture
def make(redis_url, redis_client, llm, replay):
    """make(**settings) -> (generator, settings): a Generator on the test Redis."""
    replay.clear()
    replay.route(f"/html/{faqkit.PAPER_ID}v1", faqkit.HTML_FIXTURE)
    made = []

    def make(**overrides):
        settings = faqkit.faq_settings(redis_url, llm.url, replay.url, **overrides)
        session = PoliteSession(settings, ArxivLimiter(redis_client, settings.arxiv_min_interval))
        made.append(session)
        return Generator(settings, redis_client, session, backoff=0.05), settings

    yield make
    for s in made:
        s.close()


def key(version=1, language="en"):
    return FaqKey(faqkit.PAPER_ID, version, language, "test-model")


def test_a_faq_is_made_question_by_question_and_cached(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    gen, settings = make()
    outcome = gen.run(faqkit.PAPER_ID, 1, "en")
    assert outcome.status == "done", outcome.error
    assert len(llm.chat_requests()) == QUESTIONS
    assert all(r.body["stream"] is True for r in llm.chat_requests())
    faq = FaqStore(redis_client).get(key())
    assert faq.tldr == faqkit.TLDR
    assert faq.source == "fulltext" and faq.model == "test-model" and faq.version == 1
    assert [a["question"] for a in faq.answers] == list(load().questions)
    assert all("$L = \\sum_i x_i^2$" in a["answer"] for a in faq.answers)
    # A second run finds it cached and asks nothing.
    assert gen.run(faqkit.PAPER_ID, 1, "en").status == "cached"
    assert len(llm.chat_requests()) == QUESTIONS
    # Compact: zstd, well under the JSON's size.
    assert redis_client.ttl(keys.faq(*key().parts)) == -1  # kept until cleared


@pytest.mark.parametrize(
    ("mode", "licence", "source"),
    [
        ("licensed", faqkit.CC_BY, "fulltext"),
        ("licensed", "http://creativecommons.org/licenses/by-sa/4.0/", "fulltext"),
        ("licensed", "http://creativecommons.org/publicdomain/zero/1.0/", "fulltext"),
        ("licensed", "http://creativecommons.org/licenses/by-nc-sa/4.0/", "abstract"),
        ("licensed", faqkit.ARXIV_LICENCE, "abstract"),
        ("licensed", None, "abstract"),
        ("all", faqkit.ARXIV_LICENCE, "fulltext"),
        ("never", faqkit.CC_BY, "abstract"),
    ],
)
def test_what_the_model_receives(make, llm, redis_client, replay, mode, licence, source):
    faqkit.put_paper(redis_client, licence=licence)
    gen, settings = make(faq_fulltext=mode, llm_max_input_chars=20000)
    assert gen.run(faqkit.PAPER_ID, 1, "en").status == "done"
    requests = llm.chat_requests()
    html_fetches = replay.requests("/html/")
    for r in requests:
        text = r.user_text
        assert faqkit.ABSTRACT in text  # the abstract, always
        assert len(text) <= 20000 + 200  # the cap, plus the question itself
        assert r.body["messages"][0]["role"] == "system"
        if source == "fulltext":
            assert "## 2 Out-of-context reasoning" in text  # sections of the real page
            assert "$\\varphi_{T}$" in text  # math as its LaTeX alttext
        else:
            assert "Out-of-context reasoning" not in text
    assert "ltx_bibliography" not in requests[0].user_text
    # Fetched once for the seven requests, and only when allowed.
    assert len(html_fetches) == (1 if source == "fulltext" else 0)
    assert FaqStore(redis_client).get(key()).source == source
    # The full text is never stored: nothing in Redis holds a sentence of it.
    sentence = b"out-of-context reasoning"
    for name in redis_client.scan_iter("*"):
        if redis_client.type(name) == b"string":
            assert sentence not in (redis_client.get(name) or b"").lower()


def test_no_html_at_arxiv_means_the_abstract(make, llm, redis_client, replay):
    faqkit.put_paper(redis_client, paper_id="2104.12255")
    replay.route("/html/2104.12255v1", b"<html>No HTML for this paper</html>", status=404)
    gen, _ = make(faq_fulltext="all")
    assert gen.run("2104.12255", 1, "en").status == "done"
    assert FaqStore(redis_client).get(FaqKey("2104.12255", 1, "en", "test-model")).source == (
        "abstract"
    )


@pytest.mark.parametrize(
    ("fault", "options", "message"),
    [
        ("401", {}, "refused the API key (HTTP 401)"),
        ("404", {}, "no model named “test-model” (HTTP 404)"),
    ],
)
def test_fatal_errors_end_the_faq_at_once_in_plain_words(
    make, llm, redis_client, fault, options, message
):
    faqkit.put_paper(redis_client)
    gen, _ = make()
    llm.inject(fault, times=10, **options)
    outcome = gen.run(faqkit.PAPER_ID, 1, "en")
    assert outcome.status == "failed" and message in outcome.error
    assert len(llm.chat_requests()) == 1  # not retried
    faqs = FaqStore(redis_client)
    assert faqs.get(key()) is None
    assert faqs.state(key())["status"] == "failed" and message in faqs.state(key())["error"]


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("429_throttle", {"retry_after": "0.2"}),  # with Retry-After
        ("429_throttle", {}),  # without: our backoff
        ("500", {}),
        ("drop", {"after": 2}),
        ("hang", {"delay": 30}),
        ("hang_mid", {"delay": 30, "after": 2}),
    ],
)
def test_transient_failures_are_retried(make, llm, redis_client, fault, options):
    faqkit.put_paper(redis_client)
    gen, _ = make(llm_timeout=2.5)  # generous: the machine may be loaded
    llm.inject(fault, times=1, **options)
    outcome = gen.run(faqkit.PAPER_ID, 1, "en")
    assert outcome.status == "done", outcome.error
    assert len(llm.chat_requests()) == QUESTIONS + 1
    faq = FaqStore(redis_client).get(key())
    # The retried answer is whole, not the dropped half plus a second copy.
    assert faq.tldr == faqkit.TLDR


def test_a_429_that_asks_to_wait_too_long_is_reported(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    gen, _ = make()
    llm.inject("429_throttle", retry_after="3600")
    outcome = gen.run(faqkit.PAPER_ID, 1, "en")
    assert outcome.status == "failed"
    assert "rate limit (HTTP 429)" in outcome.error and "3600 seconds" in outcome.error


def test_failures_that_persist_are_reported_after_the_last_try(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    gen, _ = make(llm_timeout=0.5)
    llm.inject("hang", times=5, delay=30)
    outcome = gen.run(faqkit.PAPER_ID, 1, "en")
    assert outcome.status == "failed"
    assert "The model did not answer within" in outcome.error
    assert "Gave up after 3 tries" in outcome.error
    assert len(llm.chat_requests()) == 3


@pytest.mark.parametrize("fault", ["400_context", "400_context_ollama", "429"])
def test_context_too_long_is_retried_once_with_half_the_input(make, llm, redis_client, fault):
    faqkit.put_paper(redis_client)
    gen, _ = make(faq_fulltext="all", llm_max_input_chars=40000)
    llm.inject(fault)
    assert gen.run(faqkit.PAPER_ID, 1, "en").status == "done"
    first, second = llm.chat_requests()[:2]
    assert len(second.user_text) < len(first.user_text) * 0.6
    assert faqkit.ABSTRACT in second.user_text


def test_context_too_long_twice_is_reported(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    gen, _ = make()
    llm.inject("400_context", times=2)
    outcome = gen.run(faqkit.PAPER_ID, 1, "en")
    assert outcome.status == "failed"
    assert outcome.error == (
        "The paper is longer than the model's context window, even with half as much of its text."
    )
    assert len(llm.chat_requests()) == 2


def test_a_real_context_window_makes_the_input_shorter(make, llm, redis_client):
    # The server refuses anything over 30,000 characters, like a model with a small n_ctx.
    faqkit.put_paper(redis_client)
    llm.context_chars = 30000
    gen, _ = make(llm_max_input_chars=50000)
    assert gen.run(faqkit.PAPER_ID, 1, "en").status == "done"
    # The first question learns the limit; the next ones are sent short at once.
    assert len(llm.chat_requests()) == QUESTIONS + 1


def test_a_partial_faq_is_never_cached_and_the_next_try_resumes(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    gen, _ = make()
    llm.inject("401", times=1)
    llm.faults.clear()
    # The TL;DR and two answers succeed, then the key is refused.
    calls = {"n": 0}
    original = llm.answer

    def answer_then_fail(messages):
        calls["n"] += 1
        if calls["n"] == 3:
            llm.inject("401")
        return original(messages)

    llm.answer = answer_then_fail
    outcome = gen.run(faqkit.PAPER_ID, 1, "en")
    assert outcome.status == "failed"
    faqs = FaqStore(redis_client)
    assert faqs.get(key()) is None
    assert sorted(faqs.partial(key())) == [-1, 0, 1]
    before = len(llm.chat_requests())
    llm.answer = original
    assert gen.run(faqkit.PAPER_ID, 1, "en").status == "done"
    assert len(llm.chat_requests()) - before == QUESTIONS - 3  # only the missing answers
    assert faqs.partial(key()) == {}


def test_v2_makes_a_new_faq_and_v1_stays(make, llm, redis_client, replay):
    faqkit.put_paper(redis_client)
    gen, _ = make()
    assert gen.run(faqkit.PAPER_ID, 1, "en").status == "done"
    faqkit.put_paper(redis_client, version=2)
    replay.route(f"/html/{faqkit.PAPER_ID}v2", faqkit.HTML_FIXTURE)
    assert gen.run(faqkit.PAPER_ID, 2, "en").status == "done"
    faqs = FaqStore(redis_client)
    assert faqs.get(key(1)) is not None and faqs.get(key(2)).version == 2
    assert faqs.versions(faqkit.PAPER_ID, "en", "test-model") == [1, 2]
    assert len(llm.chat_requests()) == 2 * QUESTIONS


def test_languages_are_separate_faqs_and_the_prompt_names_the_language(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    gen, _ = make()
    assert gen.run(faqkit.PAPER_ID, 1, "zh").status == "done"
    assert "Simplified Chinese" in llm.chat_requests()[0].body["messages"][0]["content"]
    assert FaqStore(redis_client).get(key(language="en")) is None


def test_the_daily_cap_stops_generation_in_plain_words(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    faqkit.put_paper(redis_client, paper_id="2104.12255")
    gen, _ = make(llm_daily_limit=1)
    assert gen.run(faqkit.PAPER_ID, 1, "en").status == "done"
    outcome = gen.run("2104.12255", 1, "en")
    assert outcome.status == "failed" and "daily limit of 1 FAQs" in outcome.error
    assert len(llm.chat_requests()) == QUESTIONS


def test_the_api_key_is_sent_but_never_logged(make, llm, redis_client, caplog):
    faqkit.put_paper(redis_client)
    gen, _ = make(llm_api_key="sk-secret-test-key")
    llm.inject("401")
    with caplog.at_level("DEBUG"):
        gen.run(faqkit.PAPER_ID, 1, "en")
    assert llm.chat_requests()[0].headers["authorization"] == "Bearer sk-secret-test-key"
    assert "sk-secret-test-key" not in caplog.text
    assert "sk-secret-test-key" not in FaqStore(redis_client).state(key())["error"]


def test_the_cache_survives_a_redis_restart(tmp_path, llm, replay):
    import redis as redis_py

    server = start_redis(tmp_path / "redis")
    try:
        client = redis_py.Redis.from_url(server.url)
        faqkit.put_paper(client)
        replay.route(f"/html/{faqkit.PAPER_ID}v1", faqkit.HTML_FIXTURE)
        settings = faqkit.faq_settings(server.url, llm.url, replay.url)
        assert Generator(settings, client, None).run(faqkit.PAPER_ID, 1, "en").status == "done"
        client.close()
    finally:
        server.stop()
    server = start_redis(tmp_path / "redis")
    try:
        client = redis_py.Redis.from_url(server.url)
        assert FaqStore(client).get(key()).tldr == faqkit.TLDR
        client.close()
    finally:
        server.stop()


def test_the_operator_clears_the_cache(make, llm, redis_client):
    faqkit.put_paper(redis_client)
    gen, _ = make()
    gen.run(faqkit.PAPER_ID, 1, "en")
    faqs = FaqStore(redis_client)
    assert faqs.clear() == 1
    assert faqs.get(key()) is None and faqs.versions(faqkit.PAPER_ID, "en", "test-model") == []
    assert buckets.get(redis_client, faqkit.PAPER_ID)  # papers stay


@pytest.mark.parametrize(
    ("flavour", "answer", "expected"),
    [
        # Ollama's recorded stream, verbatim: reasoning deltas first, then the content.
        ("ollama", None, "1  \n2  \n3"),
        # OpenAI's recorded stream, verbatim.
        ("openai", None, "I now can give a great answer"),
        # A reasoning model served raw puts its thinking in the content.
        (
            "openai",
            lambda m: "<think>Let me think.</think>\n\nThe real answer.",
            "The real answer.",
        ),
    ],
)
def test_recorded_streams_and_reasoning_models(
    redis_url, redis_client, replay, flavour, answer, expected
):
    faqkit.put_paper(redis_client)
    with LlmServer(flavour=flavour, answer=answer) as llm:
        settings = faqkit.faq_settings(redis_url, llm.url, replay.url, faq_fulltext="never")
        assert Generator(settings, redis_client, None).run(faqkit.PAPER_ID, 1, "en").status == (
            "done"
        )
    faq = FaqStore(redis_client).get(key())
    assert faq.tldr.startswith(expected)
    assert "Okay" not in faq.tldr and "<think>" not in faq.tldr


def test_the_faq_clear_command(make, llm, redis_client, redis_url, monkeypatch, capsys):
    from papermirror.cli import main

    faqkit.put_paper(redis_client)
    faqkit.put_paper(redis_client, paper_id="2104.12255")
    gen, _ = make()
    gen.run(faqkit.PAPER_ID, 1, "en")
    gen.run("2104.12255", 1, "en")
    monkeypatch.setenv("PAPERMIRROR_REDIS_URL", redis_url)
    assert main(["faq-clear", "2104.12255"]) == 0
    assert "dropped 1 cached FAQ" in capsys.readouterr().out
    faqs = FaqStore(redis_client)
    assert faqs.get(key()) is not None
    assert main(["faq-clear"]) == 0
    assert faqs.get(key()) is None
