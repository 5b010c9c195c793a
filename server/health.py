"""Health checks for people, Docker and load balancers."""

from __future__ import annotations

import logging
import os
import socket

import redis
from flask import Blueprint, jsonify
from rq import Worker

from papermirror import keys
from papermirror.layout import rq_workers
from server.outage import RETRY_AFTER
from server.services import services

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
HOSTNAME = socket.gethostname()


def alive(worker: Worker) -> bool:
    """Whether a registered worker still runs.

    RQ keeps a killed worker registered until its key expires (up to
    ``worker_ttl`` + 60 s, 8 minutes by default), so the registry alone shows a
    lost worker as alive. On this host its pid tells at once; a worker on
    another host counts while its key lives.
    """
    if worker.hostname != HOSTNAME or not worker.pid:
        return True
    try:
        # A killed process stays a zombie until its parent reaps it: not alive.
        with open(f"/proc/{worker.pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass  # no /proc here: ask the kernel
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def live_workers(client: redis.Redis) -> int:
    """How many registered RQ workers are alive (see :func:`alive`)."""
    return sum(alive(w) for w in Worker.all(connection=client))


@bp.get("/healthz")
def healthz():
    """Whether Redis and the workers are alive; 503 when Redis is not."""
    svc = services()
    try:
        svc.redis.ping()
        workers = live_workers(svc.redis)
        pending = svc.store.pending_count()
        calls = int(svc.redis.get(keys.ARXIV_CALLS) or 0)
    except redis.RedisError as exc:
        log.warning("healthz: Redis unreachable: %s: %s", type(exc).__name__, exc)
        body = jsonify(status="down", redis="unreachable")
        return body, 503, {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    expected = rq_workers(svc.settings)
    return jsonify(
        # A lost worker shows: fewer than the mirror runs is degraded, not ok.
        status="ok" if workers >= expected else "degraded",
        redis="ok",
        workers=workers,
        workers_expected=expected,
        pending_fetches=pending,
        arxiv_requests=calls,
    )


@bp.get("/healthz/live")
def live():
    """Liveness only: the process answers. Also the baseline of the page benchmark."""
    # Any origin may read it: the extension's options page tests the connection with it.
    return "ok\n", 200, {"Content-Type": "text/plain", "Access-Control-Allow-Origin": "*"}
