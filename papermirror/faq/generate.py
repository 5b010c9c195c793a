"""One FAQ generation: the TL;DR, then each question as its own chat request, streamed via Redis.

The job holds the FAQ's lock, so one FAQ is never generated twice at once. It
appends every piece of text to the FAQ's Redis Stream as it arrives (pages on
any web process read it), keeps each finished answer so that a failure costs
one answer rather than six, and stores the FAQ in the cache only when every
answer is complete.

Failures: 401/403 and 404 (unknown model) end the generation at once with a
plain reason; 429 waits for ``Retry-After`` (or backs off) and tries again;
a context-too-long 400 is retried once with half the input; timeouts, refused
connections and dropped streams are retried; after the last try the reason is
reported on the FAQ's state, for the API and the page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from papermirror import keys
from papermirror.arxiv.http import PoliteSession
from papermirror.faq import inputs
from papermirror.faq.cache import Faq, FaqKey, FaqStore
from papermirror.faq.client import RETRYABLE, ChatClient, LlmError
from papermirror.faq.prompt import PromptError, load
from papermirror.locks import try_lock
from papermirror.settings import Settings
from papermirror.store import Store

log = logging.getLogger(__name__)

TLDR = -1  # the TL;DR's index among the questions
MAX_TRIES = 3  # of one question, for retryable failures other than context length
LONGEST_WAIT = 120.0  # a Retry-After beyond this ends the try instead of holding a worker
LOCK_TTL = 30.0


@dataclass
class Outcome:
    """What a generation job did: ``done``, ``cached``, ``busy`` or ``failed`` (with why)."""

    status: str
    error: str = ""
    requests: int = 0

    def to_dict(self) -> dict:
        """JSON-ready form, the job's result."""
        return {"status": self.status, "error": self.error, "requests": self.requests}


def faq_key(settings: Settings, paper_id: str, version: int, language: str) -> FaqKey:
    """The key of a FAQ made by the configured model."""
    return FaqKey(paper_id, int(version), language, settings.llm_model)


class Generator:
    """Generates FAQs with the configured model; one instance per worker process is enough."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        session: PoliteSession | None = None,
        chat: Callable[[], ChatClient] | None = None,
        backoff: float = 2.0,
    ) -> None:
        self.settings = settings
        self.redis = client
        self.store = Store(client)
        self.faqs = FaqStore(client)
        self.session = session
        self.chat_factory = chat or (lambda: ChatClient(settings))
        self.backoff = backoff

    def run(self, paper_id: str, version: int, language: str, regenerate: bool = False) -> Outcome:
        """Generate (or find cached) the FAQ of one paper version in ``language``."""
        key = faq_key(self.settings, paper_id, version, language)
        with try_lock(self.redis, keys.faq_lock(*key.parts), LOCK_TTL) as taken:
            if not taken:
                return Outcome("busy")  # the holder streams and stores it
            if not regenerate and self.faqs.get(key) is not None:
                self.faqs.clear_state(key)
                return Outcome("cached")
            try:
                return self._generate(key, regenerate)
            except Exception:
                log.exception("FAQ generation of %s failed", key)
                return self._fail(key, "The FAQ could not be made because of an internal error.")

    def _fail(self, key: FaqKey, reason: str, requests: int = 0) -> Outcome:
        self.faqs.set_state(key, status="failed", error=reason)
        self.faqs.emit(key, {"t": "end", "status": "failed", "error": reason})
        return Outcome("failed", reason, requests)

    def _generate(self, key: FaqKey, regenerate: bool) -> Outcome:
        settings = self.settings
        if not settings.faq_enabled:
            return self._fail(key, "No language model is configured on this mirror.")
        paper = self.store.get(key.id)
        if paper is None:
            return self._fail(key, "The paper is not in the mirror.")
        try:
            prompt = load(settings.faq_prompt)
        except PromptError as exc:
            log.error("%s", exc)
            return self._fail(key, "The mirror's FAQ prompt file is broken; the operator is told.")
        if not self.faqs.count_today(settings.llm_daily_limit):
            return self._fail(
                key,
                f"This mirror's daily limit of {settings.llm_daily_limit} FAQs is reached. "
                "Please try again tomorrow.",
            )
        self.faqs.set_state(key, status="generating", started=f"{time.time():.3f}")
        given = inputs.gather(settings, paper, key.version, self.session)
        log.info("FAQ %s from %s %s", key, given.source, given.note)
        self.faqs.emit(
            key,
            {"t": "meta", "source": given.source, "model": key.model, "version": key.version},
        )
        done = {} if regenerate else self.faqs.partial(key)
        questions = [(TLDR, prompt.text(prompt.tldr, key.language))]
        questions += list(enumerate(prompt.questions))
        system = prompt.text(prompt.system, key.language)
        limit = settings.llm_max_input_chars
        answers: dict[int, str] = {}
        chat = self.chat_factory()
        requests = 0
        try:
            for index, question in questions:
                self.faqs.emit(key, {"t": "start", "q": index, "question": question})
                if index in done:
                    answers[index] = done[index]
                    self.faqs.emit(key, {"t": "delta", "q": index, "text": done[index]})
                else:
                    try:
                        answers[index], limit, n = self._ask(
                            chat, key, index, system, question, paper, given, prompt, limit
                        )
                        requests += n
                    except LlmError as exc:
                        self.faqs.emit(key, {"t": "error", "q": index, "error": exc.message})
                        return self._fail(key, exc.message, requests)
                    self.faqs.keep_partial(key, index, answers[index])
                self.faqs.emit(key, {"t": "done", "q": index})
        finally:
            chat.close()
        faq = Faq(
            id=key.id,
            version=key.version,
            language=key.language,
            model=key.model,
            source=given.source,
            generated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            tldr=answers[TLDR],
            answers=[{"question": q, "answer": answers[i]} for i, q in enumerate(prompt.questions)],
        )
        self.faqs.put(key, faq)
        self.faqs.emit(key, {"t": "end", "status": "done"})
        self.faqs.clear_state(key)
        return Outcome("done", requests=requests)

    def _ask(self, chat, key, index, system, question, paper, given, prompt, limit):
        """One question, retried as the module docstring says; returns (answer, limit, requests)."""
        tries = 0
        shortened = False
        while True:
            tries += 1
            text = inputs.paper_message(prompt, paper, key.version, given, limit)
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": f"{text}\n\nQuestion: {question}"},
            ]
            parts: list[str] = []
            self.redis.incr(keys.FAQ_CALLS)
            try:
                for piece in chat.stream(messages):
                    parts.append(piece)
                    self.faqs.emit(key, {"t": "delta", "q": index, "text": piece})
                answer = "".join(parts).strip()
                if not answer:
                    raise LlmError("dropped", "The model gave an empty answer.")
                return answer, limit, tries
            except LlmError as exc:
                if parts:  # the page drops what it showed of this answer
                    self.faqs.emit(key, {"t": "reset", "q": index})
                if exc.kind == "context" and not shortened:
                    shortened = True
                    limit = max(2000, limit // 2)
                elif exc.kind not in RETRYABLE or exc.kind == "context" or tries >= MAX_TRIES:
                    if exc.kind == "context":
                        exc.message = (
                            "The paper is longer than the model's context window, "
                            "even with half as much of its text."
                        )
                    elif tries > 1 and exc.kind in RETRYABLE:
                        exc.message += f" Gave up after {tries} tries."
                    raise
                else:
                    wait = self.backoff * 2 ** (tries - 1)
                    if exc.retry_after is not None:
                        if exc.retry_after > LONGEST_WAIT:
                            exc.message += (
                                f" It asks to wait {exc.retry_after:.0f} seconds; "
                                "please try again later."
                            )
                            raise
                        wait = exc.retry_after
                    log.warning("FAQ %s question %d: %s; retrying in %.1fs", key, index, exc, wait)
                    self.faqs.emit(key, {"t": "retry", "q": index, "reason": exc.message})
                    time.sleep(wait)
