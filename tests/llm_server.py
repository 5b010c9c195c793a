"""A local OpenAI-compatible chat server for tests and benchmarks, built from recorded answers.

``POST /v1/chat/completions`` answers like the real servers, with their real
shapes, taken from ``tests/fixtures/llm/bodies/``:

* ``stream: true``: chunked ``text/event-stream`` in the shape of the recorded
  OpenAI stream (or Ollama's, with its ``reasoning`` deltas first, when
  ``flavour="ollama"``): a role chunk, content chunks, a ``finish_reason``
  chunk, a usage chunk and ``data: [DONE]``;
* otherwise the recorded ``chat.completion`` object.

The text of the answer is the recorded one, unless ``answer`` (a function of
the request's messages) gives another; it is then cut into word-sized pieces
put into copies of the recorded content chunks. Errors are the recorded
bodies: 401 invalid key, 404 unknown model, 429 (with or without
``Retry-After``), 400 context length (DeepSeek's and Ollama's wording), and
the server answers 400 by itself when a request is longer than
``context_chars``. Faults: slow chunks, a hang, a stream dropped mid-way.

Every request is logged (``requests``) with its parsed body and headers.
Standard library only.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BODIES = Path(__file__).resolve().parent / "fixtures" / "llm" / "bodies"
STREAMS = {
    "openai": "openai_chat_stream.crewai.body.sse",
    "ollama": "ollama_v1_chat_stream.ruby_llm.body.sse",
}
COMPLETIONS = {
    "openai": "openai_chat_nonstream.crewai.body.json",
    "ollama": "ollama_v1_chat_nonstream.ruby_llm.body.json",
    "gpustack": "gpustack_v1_chat_nonstream.ruby_llm.body.json",
}
ERRORS = {
    "401": (401, "openai_error_401_invalid_api_key.body.json"),
    "404": (404, "openai_error_404_model_not_found.body.json"),
    "429": (429, "openai_error_429_rate_limit_exceeded.body.json"),
    "400_context": (400, "deepseek_error_400_context_length.body.json"),
    "400_context_ollama": (400, "ollama_cloud_v1_error_400_context_length.body.json"),
}
# A 429 that is a plain throttle, in OpenAI's wording of requests-per-minute limits.
THROTTLE_429 = {
    "error": {
        "message": "Rate limit reached for requests per min (RPM). Please try again in 1s.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}


def parse_sse(body: bytes) -> list[dict | str]:
    """The ``data:`` payloads of a recorded SSE body: dicts, and the final ``[DONE]``."""
    out: list[dict | str] = []
    for line in body.decode().splitlines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def pieces(text: str) -> list[str]:
    """Word-sized pieces, as a model's tokens arrive."""
    return re.findall(r"\s*\S+|\s+", text) or [text]


@dataclass
class Fault:
    """One injected fault, for the next ``times`` requests."""

    kind: str  # slow, hang, drop, 401, 404, 429, 429_throttle, 400_context, 400_context_ollama, 500
    times: int = 1
    delay: float = 0.0  # slow: seconds between chunks; hang: seconds before answering
    after: int = 3  # drop: content chunks sent before the connection is cut
    retry_after: str | None = None  # 429: the Retry-After header


@dataclass
class Logged:
    """One request as received."""

    at: float
    body: dict
    headers: dict

    @property
    def user_text(self) -> str:
        """Every user message's text, joined."""
        return "\n".join(
            m.get("content", "") for m in self.body.get("messages", []) if m.get("role") == "user"
        )


@dataclass
class LlmServer:
    """The server; use as a context manager. ``url`` is the ``/v1`` base URL."""

    flavour: str = "openai"
    answer: Callable[[list[dict]], str] | None = None
    context_chars: int | None = None
    chunk_delay: float = 0.0
    requests: list[Logged] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.stream_events = parse_sse((BODIES / STREAMS[self.flavour]).read_bytes())
        self.completion = json.loads((BODIES / COMPLETIONS[self.flavour]).read_bytes())
        self.chunk_times: list[float] = []  # when each content chunk was written

    # --- control ---------------------------------------------------------------------------
    def inject(self, kind: str, times: int = 1, **options) -> None:
        """Make the next ``times`` requests fail with ``kind`` (see :class:`Fault`)."""
        with self._lock:
            self.faults.append(Fault(kind, times, **options))

    def _take_fault(self) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0:
                    f.times -= 1
                    return f
        return None

    def __enter__(self) -> LlmServer:
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                server_self._handle(self)

            def do_GET(self) -> None:
                self._json(
                    404, {"error": {"message": "not found", "type": "invalid_request_error"}}
                )

            def _json(self, status: int, payload, headers: dict | None = None) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- answering -------------------------------------------------------------------------
    def _handle(self, h) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        try:
            body = json.loads(h.rfile.read(length) or b"{}")
        except ValueError:
            h._json(400, {"error": {"message": "bad JSON", "type": "invalid_request_error"}})
            return
        logged = Logged(time.time(), body, {k.lower(): v for k, v in h.headers.items()})
        with self._lock:
            self.requests.append(logged)
        if h.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            h._json(404, {"error": {"message": f"no route {h.path}", "type": "not_found"}})
            return
        fault = self._take_fault()
        kind = fault.kind if fault else None
        if kind == "hang":
            self._release.wait(fault.delay or 3600)
            return
        if kind in ERRORS:
            status, name = ERRORS[kind]
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            h._json(status, (BODIES / name).read_bytes(), headers)
            return
        if kind == "429_throttle":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            h._json(429, THROTTLE_429, headers)
            return
        if kind == "500":
            h._json(500, {"error": {"message": "internal error", "type": "server_error"}})
            return
        if self.context_chars is not None and len(logged.user_text) > self.context_chars:
            h._json(400, (BODIES / ERRORS["400_context"][1]).read_bytes())
            return
        text = self.answer(body.get("messages", [])) if self.answer else None
        if body.get("stream"):
            self._stream(h, text, fault)
        else:
            completion = copy.deepcopy(self.completion)
            if text is not None:
                completion["choices"][0]["message"]["content"] = text
            h._json(200, completion)

    def _events(self, text: str | None) -> list[dict | str]:
        recorded = self.stream_events
        if text is None:
            return recorded
        first_content = next(
            i
            for i, e in enumerate(recorded)
            if isinstance(e, dict) and e["choices"] and e["choices"][0]["delta"].get("content")
        )
        head = recorded[: min(first_content, 4)]  # role chunk (and a few reasoning deltas)
        template = recorded[first_content]
        tail = [
            e
            for e in recorded[first_content:]
            if e == "[DONE]" or not e["choices"] or e["choices"][0].get("finish_reason")
        ]
        body = []
        for piece in pieces(text):
            chunk = copy.deepcopy(template)
            chunk["choices"][0]["delta"]["content"] = piece
            body.append(chunk)
        return [*head, *body, *tail]

    def _stream(self, h, text: str | None, fault: Fault | None) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream; charset=utf-8")
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Cache-Control", "no-cache")
        h.end_headers()
        delay = fault.delay if fault and fault.kind == "slow" else self.chunk_delay
        sent_content = 0
        try:
            for event in self._events(text):
                data = event if isinstance(event, str) else json.dumps(event)
                is_content = (
                    isinstance(event, dict)
                    and event["choices"]
                    and event["choices"][0]["delta"].get("content")
                )
                if fault and fault.kind == "drop" and is_content and sent_content >= fault.after:
                    h.wfile.flush()
                    h.connection.shutdown(socket.SHUT_RDWR)
                    h.close_connection = True
                    return
                if (
                    fault
                    and fault.kind == "hang_mid"
                    and is_content
                    and sent_content >= fault.after
                ):
                    self._release.wait(fault.delay or 3600)
                    return
                payload = f"data: {data}\n\n".encode()
                h.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
                h.wfile.flush()
                if is_content:
                    sent_content += 1
                    self.chunk_times.append(time.time())
                    if delay:
                        time.sleep(delay)
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def chat_requests(self) -> list[Logged]:
        """The chat requests received so far."""
        with self._lock:
            return list(self.requests)


if __name__ == "__main__":  # pragma: no cover - a manual check: python tests/llm_server.py
    with LlmServer() as s:
        print(s.url, flush=True)
        threading.Event().wait()
