"""Health checks for people, Docker and load balancers."""

from __future__ import annotations

import redis
from flask import Blueprint, jsonify
from rq import Worker

from papermirror import keys
from server.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Whether Redis and the workers are alive; 503 when Redis is not."""
    svc = services()
    try:
        svc.redis.ping()
        workers = Worker.count(connection=svc.redis)
        pending = svc.store.pending_count()
        calls = int(svc.redis.get(keys.ARXIV_CALLS) or 0)
    except redis.RedisError as exc:
        return jsonify(status="down", redis=f"unreachable: {type(exc).__name__}"), 503
    return jsonify(
        status="ok" if workers else "degraded",
        redis="ok",
        workers=workers,
        pending_fetches=pending,
        arxiv_requests=calls,
    )


@bp.get("/healthz/live")
def live():
    """Liveness only: the process answers. Also the baseline of the page benchmark."""
    # Any origin may read it: the extension's options page tests the connection with it.
    return "ok\n", 200, {"Content-Type": "text/plain", "Access-Control-Allow-Origin": "*"}
