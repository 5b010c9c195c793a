"""The FAQ's answers as a reader receives them: folded from the Redis Stream, as SSE or JSON.

A generation's stream holds small events (``start``, ``delta``, ``done``, …);
a reader gets each answer whole, re-rendered to sanitised HTML as its text
grows. A cached FAQ with no stream left replays as the same events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from papermirror.faq.cache import FaqKey, FaqStore

STREAM_SECONDS = 900  # one SSE response lasts at most this long; EventSource reconnects
KEEPALIVE_MS = 3000  # under the Redis client's 5 s socket timeout


def to_html(markdown: str) -> str:
    """Sanitised HTML of an answer (the renderer is imported only where the FAQ is on: 3 MB)."""
    from papermirror.faq.render import to_html as render

    return render(markdown)


def to_text(markdown: str) -> str:
    """The TL;DR as one line of plain text."""
    from papermirror.faq.render import to_text as render

    return render(markdown)


def _replay(events: list, out: dict | None = None) -> dict:
    """Fold stream events into the answers so far: {q: {question, text, done}}, meta, end.

    ``out``, the fold of the earlier events, is updated in place: a stream is folded once.
    """
    if out is None:
        out = {"answers": {}, "meta": {}, "end": None, "retry": {}}
    out["retry"] = {}
    for _, e in events:
        kind = e.get("t")
        q = int(e["q"]) if "q" in e else None
        if kind == "meta":
            out["meta"] = {k: v for k, v in e.items() if k != "t"}
        elif kind == "start":
            out["answers"][q] = {"question": e.get("question", ""), "text": "", "done": False}
        elif kind == "delta" and q in out["answers"]:
            out["answers"][q]["text"] += e.get("text", "")
        elif kind == "reset" and q in out["answers"]:
            out["answers"][q]["text"] = ""
        elif kind == "done" and q in out["answers"]:
            out["answers"][q]["done"] = True
        elif kind == "retry":
            out["retry"][q] = e.get("reason", "")
        elif kind == "end":
            out["end"] = {"status": e.get("status"), "error": e.get("error", "")}
    return out


def _answer_event(q: int, a: dict) -> dict:
    if q == -1:  # the TL;DR: plain text, which the page sets as a text node
        return {"q": q, "question": "TL;DR", "text": to_text(a["text"]), "done": a["done"]}
    return {"q": q, "question": a["question"], "html": to_html(a["text"]), "done": a["done"]}


def _cached_events(faq) -> list[tuple[str, dict]]:
    events = [("meta", _meta(faq.to_dict()))]
    events.append(
        ("answer", {"q": -1, "question": "TL;DR", "text": to_text(faq.tldr), "done": True})
    )
    for i, a in enumerate(faq.answers):
        events.append(
            (
                "answer",
                {"q": i, "question": a["question"], "html": to_html(a["answer"]), "done": True},
            )
        )
    events.append(("end", {"status": "done", "error": "", **_meta(faq.to_dict())}))
    return events


def _meta(d: dict) -> dict:
    return {k: d.get(k) for k in ("id", "version", "language", "model", "source", "generated")}


def _sse(event: str, data: dict, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def follow(faqs: FaqStore, key: FaqKey) -> Iterator[str]:
    """The SSE text of a FAQ: its cached answers, or its generation as it goes."""
    deadline = time.monotonic() + STREAM_SECONDS
    cursor, seen, folded = "0", False, None
    while time.monotonic() < deadline:
        state = faqs.state(key)
        batch = faqs.read(key, cursor, block_ms=KEEPALIVE_MS if seen or state else None)
        if not batch and not seen:
            cached = faqs.get(key)
            if cached is not None and state.get("status") not in ("queued", "generating"):
                for name, data in _cached_events(cached):
                    yield _sse(name, data)
                return
            if not state:
                yield _sse("end", {"status": "none", "error": "No FAQ is being made."})
                return
            if state.get("status") == "failed":
                yield _sse("end", {"status": "failed", "error": state.get("error", "")})
                return
            batch = faqs.read(key, cursor, block_ms=KEEPALIVE_MS)
        if not batch:
            if seen and faqs.state(key).get("status") == "failed":  # the job died
                yield _sse("end", {"status": "failed", "error": faqs.state(key)["error"]})
                return
            yield ": keep-alive\n\n"
            continue
        cursor = batch[-1][0]
        touched = {int(e["q"]) for _, e in batch if "q" in e}
        seen = True
        folded = _replay(batch, folded)
        if any(e.get("t") == "meta" for _, e in batch):
            yield _sse("meta", folded["meta"] | {"id": key.id, "language": key.language})
        for q in sorted(touched):
            if q in folded["answers"]:
                yield _sse("answer", _answer_event(q, folded["answers"][q]), cursor)
        for q, reason in folded["retry"].items():
            if q in touched:
                yield _sse("retry", {"q": q, "reason": reason})
        if folded["end"]:
            end = folded["end"]
            cached = faqs.get(key) if end["status"] == "done" else None
            yield _sse("end", end | (_meta(cached.to_dict()) if cached else {}))
            return


def snapshot(faqs: FaqStore, key: FaqKey) -> dict:
    events = faqs.read(key, "0")
    state = faqs.state(key)
    cached = faqs.get(key)
    if not events and cached is not None:
        found = _cached_events(cached)
        return {
            "meta": found[0][1],
            "answers": [d for n, d in found if n == "answer"],
            "end": found[-1][1],
        }
    folded = _replay(events)
    end = folded["end"]
    if end is None and state.get("status") == "failed":
        end = {"status": "failed", "error": state.get("error", "")}
    elif end is None and not state:
        end = {"status": "none", "error": "No FAQ is being made."}
    return {
        "meta": folded["meta"],
        "answers": [_answer_event(q, a) for q, a in sorted(folded["answers"].items())],
        "end": end,
    }
