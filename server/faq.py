"""The paper FAQ on the web: its JSON API, its event stream and the "About the FAQ" page.

* ``POST /api/papers/<id>/faq?lang=&version=&regenerate=1`` queues a generation
  (202) or returns the cached FAQ (200). Idempotent; refuses cross-site requests.
* ``GET /api/papers/<id>/faq?lang=&version=``: 200 the FAQ, 404 none yet,
  202 being made, 503 no model or the generation failed (with the reason).
  A GET never starts a generation.
* ``GET /api/papers/<id>/faq/stream``: server-sent events, each answer as
  sanitised HTML re-rendered as its text grows; ``?poll=1`` gives the same as
  one JSON object for clients without EventSource.
* ``GET /faq/about``: the prompt, word for word.

The generation itself runs in the FAQ workers (worker.faq); this module only
reads Redis and enqueues, and never imports the model client.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    jsonify,
    render_template,
    request,
    url_for,
)
from rq import Queue

from papermirror import keys
from papermirror.faq.cache import FaqKey, FaqStore
from papermirror.faq.prompt import PromptError, builtin_text, language_name, load
from papermirror.ids import parse_id
from papermirror.records import Paper
from server.faqstream import follow, snapshot, to_html
from server.services import services

log = logging.getLogger(__name__)
bp = Blueprint("faq", __name__)

GENERATE_JOB = "worker.faq.generate_faq"
PRIORITY_QUEUE = dict(zip(("click", "today", "backlog"), keys.FAQ_QUEUES, strict=True))
REGENERATE_EVERY = 24 * 3600  # one reader-asked regeneration per FAQ per day
# Streams held open at once per web process: each holds a thread, and page views need
# threads too. Past this, readers are told to poll (faq.js does so by itself).
_stream_slots: dict[int, threading.BoundedSemaphore] = {}
NO_MODEL = (
    "This mirror has no language model configured, so it offers no FAQ. "
    "The operator can set PAPERMIRROR_LLM_URL and PAPERMIRROR_LLM_MODEL."
)


@bp.record_once
def _warm(state) -> None:
    # Build the Markdown parser now rather than while the first reader waits for text.
    if state.app.config["SETTINGS"].faq_enabled:
        to_html("**warm** $x$")


@bp.app_context_processor
def faq_globals() -> dict:
    """``faq_enabled`` and ``faq_languages`` for every template."""
    settings = services().settings
    return {
        "faq_enabled": settings.faq_enabled,
        "faq_languages": [(c, language_name(c)) for c in settings.faq_language or ("en",)],
    }


def _error(message: str, status: int, **extra):
    return jsonify(error=message, **extra), status


def _cross_site() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin:
        # Compare hosts only: a TLS-terminating proxy may change the scheme.
        return origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower()
    return False


def _target(paper_id: str):
    """(FaqKey, paper) for the request, or an error response."""
    settings = services().settings
    if not settings.faq_enabled:
        return None, _error(NO_MODEL, 503)
    ref = parse_id(paper_id)
    if ref is None:
        return None, _error(f"not an arXiv identifier: {paper_id[:100]}", 404)
    languages = settings.faq_language or ("en",)
    language = request.args.get("lang") or languages[0]
    if language not in languages:
        return None, _error(
            f"this mirror makes FAQs in {', '.join(languages)}, not {language[:20]}", 400
        )
    paper: Paper | None = services().store.get(ref.id)
    raw_version = request.args.get("version") or ref.version or (paper.version if paper else None)
    try:
        version = int(raw_version) if raw_version is not None else None
    except ValueError:
        return None, _error("version must be a number", 400)
    if paper is None:
        return None, _error("The paper is not in the mirror yet; open its page first.", 404)
    if version is None or not 1 <= version <= paper.version:
        return None, _error(f"arXiv:{ref.id} has no version {raw_version} in the mirror", 404)
    return (FaqKey(ref.id, version, language, settings.llm_model), paper), None


def _stream_url(key: FaqKey) -> str:
    return url_for(
        "faq.stream", paper_id=key.id, lang=key.language, version=key.version, _external=False
    )


def _enqueue(key: FaqKey, priority: str, regenerate: bool = False) -> None:
    Queue(PRIORITY_QUEUE[priority], connection=services().redis).enqueue(
        GENERATE_JOB,
        args=(key.id, key.version, key.language),
        kwargs={"regenerate": regenerate},
        job_timeout=3600,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"FAQ {key.id}v{key.version} {key.language} ({priority})",
    )


@bp.post("/api/papers/<path:paper_id>/faq")
def start(paper_id: str):
    """Queue the FAQ's generation (202), or return it when cached (200)."""
    if _cross_site():
        return _error("cross-site requests may not start a FAQ", 403)
    target, error = _target(paper_id)
    if error:
        return error
    key, _ = target
    faqs = FaqStore(services().redis)
    regenerate = request.args.get("regenerate") in ("1", "true")
    cached = faqs.get(key)
    if cached is not None and not regenerate:
        return jsonify(cached.to_dict())
    if cached is not None and regenerate:
        state = faqs.state(key)
        if state.get("status") not in ("queued", "generating"):
            mark = keys.faq_regenerated(*key.parts)
            if not services().redis.set(mark, 1, nx=True, ex=REGENERATE_EVERY):
                return _error("This FAQ was regenerated less than a day ago.", 429)
    status = faqs.claim(key, "click")
    if status == "claimed":
        _enqueue(key, "click", regenerate=regenerate)
        status = "queued"
    elif status == "queued" and faqs.state(key).get("priority") != "click":
        # Waiting behind the prefetch backlog: a reader wants it now.
        faqs.set_state(key, priority="click")
        _enqueue(key, "click")
    return jsonify(status=status, stream=_stream_url(key)), 202


@bp.get("/api/papers/<path:paper_id>/faq")
def get(paper_id: str):
    """The cached FAQ (200), or whether one is being made (202), failed (503) or absent (404)."""
    target, error = _target(paper_id)
    if error:
        return error
    key, _ = target
    faqs = FaqStore(services().redis)
    cached = faqs.get(key)
    if cached is not None:
        return jsonify(cached.to_dict())
    state = faqs.state(key)
    if state.get("status") == "failed":
        return _error(state.get("error") or "The FAQ could not be made.", 503)
    if state.get("status") in ("queued", "generating"):
        return jsonify(status=state["status"], stream=_stream_url(key)), 202
    older = [v for v in faqs.versions(key.id, key.language, key.model) if v < key.version]
    return _error("No FAQ has been made for this paper version yet.", 404, older=older)


@bp.get("/api/papers/<path:paper_id>/faq/stream")
def stream(paper_id: str):
    """Server-sent events of the answers as they are generated (``?poll=1``: one JSON snapshot)."""
    target, error = _target(paper_id)
    if error:
        return error
    key, _ = target
    faqs = FaqStore(services().redis)
    if request.args.get("poll"):
        return jsonify(snapshot(faqs, key))
    threads = services().settings.web_threads
    slots = _stream_slots.setdefault(threads, threading.BoundedSemaphore(max(4, threads // 4)))
    if not slots.acquire(blocking=False):
        return _error("Too many readers are following FAQs right now; poll instead.", 429)

    def events():
        yield "retry: 2000\n\n"
        yield from follow(faqs, key)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    # No request context inside: everything the stream needs is bound above.
    response = Response(events(), mimetype="text/event-stream", headers=headers)
    # The server closes every response, even one whose client left before it began.
    response.call_on_close(slots.release)
    return response


@bp.get("/faq/about")
def about():
    """What the FAQ is, which model makes it, and its prompt, word for word."""
    settings = services().settings
    try:
        prompt = load(settings.faq_prompt)
        problem = None
    except PromptError as exc:
        log.error("%s", exc)
        prompt, problem = load(""), True
    text = builtin_text() if not settings.faq_prompt or problem else None
    return render_template(
        "faq_about.html",
        prompt=prompt,
        prompt_text=text,
        problem=problem,
        model=settings.llm_model,
        fulltext=settings.faq_fulltext,
        max_chars=settings.llm_max_input_chars,
        categories=settings.faq_categories,
    )
