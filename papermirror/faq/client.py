"""The one module that talks to the model: OpenAI's ``/v1/chat/completions``, streamed.

Built on the ``openai`` package, which Ollama, vLLM, llama.cpp's server,
LiteLLM and GPUStack all accept: it speaks the SSE protocol, has per-read
timeouts and maps every HTTP error to a typed exception. Its own retries are
off (``max_retries=0``): :mod:`papermirror.faq.generate` decides what to retry,
so that a 401 is never retried and a 429's ``Retry-After`` is obeyed.

Importing it costs 0.5 to 1.8 s and 37 MB here (measured on this machine, loaded
and idle), so only the FAQ workers import it, inside :class:`ChatClient`; the
web and fetch processes never do (tests/test_faq_text.py checks).

Every failure becomes one :class:`LlmError` whose ``message`` is plain words a
reader may see. Server bodies, URLs and the API key go to the log only (the
key never does).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from papermirror.arxiv.http import parse_retry_after
from papermirror.settings import Settings

log = logging.getLogger(__name__)

# How servers word "your input is longer than my context": OpenAI, DeepSeek,
# Ollama, vLLM, llama.cpp. OpenAI's 429 "Request too large" is the same thing.
_CONTEXT = re.compile(
    r"context[ _]length|context window|maximum context|prompt too long|too many tokens"
    r"|request too large|exceeds? the (?:available )?context|n_ctx",
    re.I,
)


@dataclass
class LlmError(Exception):
    """A failed chat request. ``kind`` says what to do about it (see :data:`RETRYABLE`)."""

    kind: str  # auth, model, rate, context, timeout, connection, dropped, server, refused
    message: str  # plain words, safe to show to readers
    retry_after: float | None = None
    status: int | None = None

    def __str__(self) -> str:
        return self.message


# Kinds worth another try of the same request (context: with a shorter input).
RETRYABLE = frozenset({"rate", "timeout", "connection", "dropped", "server", "context"})


def _strip_think(text: str) -> str:
    # Reasoning models served raw (qwen3, deepseek-r1) may put their thinking in the content.
    return re.sub(r"^\s*<think>.*?</think>\s*", "", text, flags=re.S)


class ChatClient:
    """Streams one chat completion at a time from the configured model."""

    def __init__(self, settings: Settings) -> None:
        import openai  # imported here: see the module docstring

        self.model = settings.llm_model
        self.url = settings.llm_url
        self.timeout = settings.llm_timeout
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=settings.llm_url,
            # Local servers need none, but the client insists on some value.
            api_key=settings.llm_api_key or "no-key",
            timeout=openai.Timeout(settings.llm_timeout, connect=min(10.0, settings.llm_timeout)),
            max_retries=0,
        )

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self._client.close()

    def stream(self, messages: list[dict]) -> Iterator[str]:
        """Yield the answer's text as it arrives; raise :class:`LlmError` on any failure.

        The answer is complete only when this returns normally: a stream that
        ends without a ``finish_reason`` raises ``dropped``. Reasoning deltas
        (``reasoning``, ``reasoning_content``) are skipped, and so is a leading
        ``<think>…</think>`` block in the content.
        """
        openai = self._openai
        finished = False
        received = False
        pending = ""  # held back while it may still be a <think> block
        thinking: bool | None = None
        try:
            stream = self._client.chat.completions.create(
                model=self.model, messages=messages, stream=True
            )
            with stream:
                for chunk in stream:
                    received = True
                    for choice in chunk.choices or ():
                        text = (choice.delta.content if choice.delta else None) or ""
                        if text:
                            if thinking is None or thinking:
                                pending += text
                                if thinking is None and len(pending.lstrip()) >= 7:
                                    thinking = pending.lstrip().startswith("<think>")
                                if thinking and "</think>" in pending:
                                    thinking = False
                                    text = _strip_think(pending)
                                elif thinking is False:
                                    text = pending
                                else:
                                    continue
                                pending = ""
                            if text:
                                yield text
                        if choice.finish_reason:
                            finished = True
                            if choice.finish_reason == "length":
                                log.info("the model stopped at its length limit")
            if pending and not thinking:
                yield pending
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except openai.APITimeoutError:
            raise LlmError(
                "timeout", f"The model did not answer within {self.timeout:.0f} seconds."
            ) from None
        except openai.APIConnectionError as exc:
            log.warning("model server %s unreachable: %s", self.url, exc)
            if received:
                raise LlmError("dropped", "The model's answer broke off mid-stream.") from None
            raise LlmError("connection", "The model server could not be reached.") from None
        except Exception as exc:  # a broken stream surfaces as the HTTP library's own errors
            if _is_http_error(exc):
                log.warning("model stream from %s broke: %r", self.url, exc)
                if "timeout" in type(exc).__name__.lower():
                    raise LlmError(
                        "timeout",
                        f"The model stopped answering for {self.timeout:.0f} seconds.",
                    ) from None
                raise LlmError("dropped", "The model's answer broke off mid-stream.") from None
            raise
        if not finished:
            raise LlmError("dropped", "The model's answer broke off mid-stream.")

    def _status_error(self, exc) -> LlmError:
        status = exc.status_code
        message = _server_message(exc)
        log.warning("model server answered HTTP %s: %s", status, message)
        if status in (401, 403):
            return LlmError(
                "auth",
                f"The model server refused the API key (HTTP {status}). "
                "The operator needs to check PAPERMIRROR_LLM_API_KEY.",
                status=status,
            )
        if status == 404:
            return LlmError(
                "model",
                f"The model server has no model named “{self.model}” (HTTP 404). "
                "The operator needs to check PAPERMIRROR_LLM_MODEL and PAPERMIRROR_LLM_URL.",
                status=status,
            )
        if status in (400, 413, 429) and _CONTEXT.search(message):
            return LlmError(
                "context", "The paper is longer than the model's context window.", status=status
            )
        if status == 429:
            retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
            return LlmError(
                "rate",
                "The model server is over its rate limit (HTTP 429).",
                retry_after=retry_after,
                status=status,
            )
        if status >= 500:
            return LlmError("server", f"The model server failed (HTTP {status}).", status=status)
        return LlmError("refused", f"The model server refused the request (HTTP {status}).")


def _server_message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    return str(exc)


def _is_http_error(exc: Exception) -> bool:
    module = type(exc).__module__ or ""
    return module.split(".")[0] in ("httpx", "httpx2", "httpcore", "httpcore2", "h11")
