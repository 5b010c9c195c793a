"""/admin: the operator page, absent unless ``PAPERMIRROR_ADMIN_TOKEN`` is set.

It shows what readers must never see (see :mod:`server.opsreport`) and can
retry or remove failed jobs. Two ways in:

* ``Authorization: Bearer <token>`` on each request (scripts, curl);
* the login form, which sets a cookie holding an HMAC of the token (never the
  token itself): ``Secure``, ``HttpOnly``, ``SameSite=Strict``, path ``/admin``.
  Browsers keep Secure cookies over https, and over http on localhost only.

Failed attempts are counted per client address in Redis: after
``MAX_FAILURES`` within ``FAILURE_WINDOW`` seconds, every attempt from that
address gets a 429 until the window ends. The POST actions also need a CSRF
token (an HMAC of the admin token) when the cookie authenticates them; a Bearer
header cannot be sent by another site's form, so it needs none.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from papermirror import keys
from server.services import services

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

COOKIE = "pm_admin"
SESSION_SECONDS = 12 * 3600
MAX_FAILURES = 10
FAILURE_WINDOW = 900


def _token() -> str:
    return services().settings.admin_token


def _mac(purpose: str, token: str | None = None) -> str:
    key = (_token() if token is None else token).encode()
    return hmac.new(key, purpose.encode(), hashlib.sha256).hexdigest()


def csrf_token_for(token: str) -> str:
    """The hidden field every /admin form carries, for this admin token."""
    return _mac("papermirror-admin-csrf", token)


def csrf_token() -> str:
    """The CSRF field for the configured token."""
    return csrf_token_for(_token())


def _client() -> str:
    return request.remote_addr or "unknown"


def _failures() -> int:
    return int(services().redis.get(keys.admin_failures(_client())) or 0)


def _fail() -> None:
    client = services().redis
    name = keys.admin_failures(_client())
    with client.pipeline() as pipe:
        # The window starts at the first failure (EXPIRE NX needs Redis 7; this works on 6).
        pipe.set(name, 0, nx=True, ex=FAILURE_WINDOW)
        pipe.incr(name)
        pipe.execute()
    log.warning("failed /admin sign-in from %s", _client())


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _how_authorized() -> str | None:
    """``"bearer"``, ``"cookie"`` or None."""
    bearer = _bearer()
    if bearer is not None and hmac.compare_digest(bearer.encode(), _token().encode()):
        return "bearer"
    cookie = request.cookies.get(COOKIE)
    if cookie and hmac.compare_digest(cookie.encode(), _mac("papermirror-admin-session").encode()):
        return "cookie"
    return None


def _too_many() -> Response:
    resp = _login_page("Too many failed attempts. Try again later.", 429)
    resp.headers["Retry-After"] = str(FAILURE_WINDOW)
    return resp


def _login_page(message: str = "", status: int = 401) -> Response:
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        resp = jsonify(error="unauthorized" if status == 401 else "too many attempts")
        resp.status_code = status
    else:
        resp = Response(render_template("admin_login.html", message=message), status=status)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="papermirror-admin"'
    return resp


@bp.before_request
def guard():
    """404 without a token; 429 after too many failures; the login form until signed in."""
    if not _token():
        abort(404)
    if request.endpoint == "admin.login":
        return None
    if _failures() >= MAX_FAILURES:
        return _too_many()
    how = _how_authorized()
    if how is None:
        if _bearer() is not None:
            _fail()
        return _login_page()
    if request.method == "POST" and how == "cookie":
        sent = request.form.get("csrf", "")
        if not hmac.compare_digest(sent.encode(), csrf_token().encode()):
            abort(403)
    return None


@bp.after_request
def private(resp: Response) -> Response:
    """Never cached, never framed."""
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.post("/login")
def login():
    """The form's POST: a cookie on the right token, a counted failure on a wrong one."""
    if _failures() >= MAX_FAILURES:
        return _too_many()
    given = request.form.get("token", "")
    if not hmac.compare_digest(given.encode(), _token().encode()):
        _fail()
        return _login_page("That token is not right.")
    resp = redirect("/admin", 303)
    resp.set_cookie(
        COOKIE,
        _mac("papermirror-admin-session"),
        max_age=SESSION_SECONDS,
        path="/admin",
        secure=True,
        httponly=True,
        samesite="Strict",
    )
    return resp


@bp.post("/logout")
def logout():
    """Forget the cookie."""
    resp = redirect("/admin", 303)
    resp.delete_cookie(COOKIE, path="/admin", secure=True, httponly=True, samesite="Strict")
    return resp


@bp.get("")
def page():
    """The operator page."""
    report = _gather()
    return render_template("admin.html", report=report, csrf=csrf_token())


@bp.get("/status.json")
def status_json():
    """The same report as JSON (what ``papermirror status --json`` prints)."""
    return jsonify(_gather())


def _gather() -> dict:
    # Imported here: it loads RQ's cron module, croniter and dateutil (~2 MB in every
    # web process), for a page only the operator opens.
    from server import opsreport

    return opsreport.gather(services().redis)


@bp.post("/jobs/<queue>/<job_id>/<action>")
def job_action(queue: str, job_id: str, action: str):
    """Retry (requeue) or remove one job of a queue's failed-job registry."""
    if action not in ("retry", "remove"):
        abort(404)
    client = services().redis
    names = {q.name for q in Queue.all(connection=client)}
    if queue not in names or job_id not in Queue(queue, connection=client).failed_job_registry:
        abort(404)
    registry = Queue(queue, connection=client).failed_job_registry
    try:
        if action == "retry":
            registry.requeue(job_id)
        else:
            registry.remove(Job.fetch(job_id, connection=client), delete_job=True)
    except NoSuchJobError:
        registry.remove(job_id)
    log.info("admin: %s failed job %s on %s", action, job_id, queue)
    return redirect("/admin", 303)
