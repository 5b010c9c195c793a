"""What an operator needs to see, read from Redis: for /admin and ``papermirror status``.

Everything readers must never see lives here with its full detail: the fetch
errors' exception text, per batch of paper ids and per followed category; the
failed-job registry; the limiter's state; the pending set; the scheduler's next
runs; Redis memory and persistence. :func:`gather` reads it (a plain dict),
:func:`as_text` prints it; ``python -m server.opsreport`` is what
``papermirror status`` runs (the domain package does not import RQ).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

import redis
from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.job import Job

from papermirror import keys
from papermirror.listings import Listings

LIMIT = 50  # rows per section: enough to act on, small enough to read


def gather(client: redis.Redis, limit: int = LIMIT) -> dict:
    """The whole report as JSON-ready data."""
    return {
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fetch_errors": fetch_errors(client, limit),
        "feeds": feeds(client),
        "failed_jobs": failed_jobs(client, limit),
        "limiter": limiter(client),
        "pending": pending(client, limit),
        "scheduler": scheduler(client, limit),
        "workers": [
            {"name": w.name, "state": w.get_state(), "job": w.get_current_job_id()}
            for w in Worker.all(connection=client)
        ],
        "redis": redis_info(client),
    }


def fetch_errors(client: redis.Redis, limit: int) -> list[dict]:
    """The last first-visit fetch errors, newest first, one row per batch, full text."""
    rows = []
    for raw in client.lrange(keys.FETCH_ERROR_LOG, 0, limit - 1):
        entry = json.loads(raw)
        at = datetime.fromtimestamp(entry["at"], UTC)
        rows.append({**entry, "at": _iso(at)})
    return rows


def feeds(client: redis.Redis) -> dict:
    """Each followed term's last feed outcome, and the recent failed ones with their text."""
    listings = Listings(client)
    return {
        "last": listings.outcomes(),
        "errors": [o for o in listings.log(keys.FEED_LOG_LENGTH) if o.get("status") == "error"][
            :20
        ],
    }


def failed_jobs(client: redis.Redis, limit: int) -> list[dict]:
    """Jobs in every queue's failed-job registry, newest first, with their exception."""
    rows = []
    names = {q.name for q in Queue.all(connection=client)} | {keys.FETCH_QUEUE}
    for queue_name in sorted(names):
        registry = Queue(queue_name, connection=client).failed_job_registry
        for job_id in registry.get_job_ids(0, limit - 1, desc=True):
            job = (
                Job.fetch(job_id, connection=client) if client.exists(Job.key_for(job_id)) else None
            )
            result = job.latest_result() if job else None
            rows.append(
                {
                    "queue": queue_name,
                    "id": job_id,
                    "description": job.description if job else "(job data expired)",
                    "ended_at": _iso(job.ended_at) if job else None,
                    "error": (result.exc_string if result else None) or "",
                }
            )
    rows.sort(key=lambda r: r["ended_at"] or "", reverse=True)
    return rows[:limit]


def limiter(client: redis.Redis) -> dict:
    """The global arXiv limiter: who holds the slot, when the next request may start."""
    seconds, micros = client.time()
    now = seconds + micros / 1e6
    nxt = float(client.get(keys.ARXIV_NEXT) or 0)
    return {
        "held": bool(client.exists(keys.ARXIV_LOCK)),
        "held_for_ms": max(0, client.pttl(keys.ARXIV_LOCK)),
        "next_in_seconds": round(max(0.0, nxt - now), 3),
        "requests": int(client.get(keys.ARXIV_CALLS) or 0),
        "drain_lock": bool(client.exists(keys.FETCH_LOCK)),
        "drain_queued": bool(client.exists(keys.FETCH_QUEUED)),
    }


def pending(client: redis.Redis, limit: int) -> dict:
    """How many ids wait for a first-visit fetch, the oldest first with their age."""
    now = time.time()
    oldest = client.zrange(keys.PENDING, 0, limit - 1, withscores=True)
    return {
        "count": client.zcard(keys.PENDING),
        "oldest": [{"id": m.decode(), "age_seconds": round(now - s, 1)} for m, s in oldest],
    }


def scheduler(client: redis.Redis, limit: int) -> dict:
    """rq cron's jobs with their last and next runs, and jobs scheduled for later."""
    cron = []
    for sched in CronScheduler.all(connection=client):
        for job in sched.get_jobs():
            cron.append(
                {
                    "scheduler": sched.name,
                    "name": job.name,
                    "cron": job.cron,
                    "interval": job.interval,
                    "last": _iso(job.latest_enqueue_time),
                    "next": _iso(job.next_enqueue_time),
                }
            )
    later = []
    registry = Queue(keys.FETCH_QUEUE, connection=client).scheduled_job_registry
    for job_id in registry.get_job_ids(0, limit - 1):
        job = Job.fetch(job_id, connection=client) if client.exists(Job.key_for(job_id)) else None
        later.append(
            {
                "id": job_id,
                "description": job.description if job else "",
                "at": _iso(registry.get_scheduled_time(job_id)),
            }
        )
    return {"cron": cron, "scheduled": later}


def redis_info(client: redis.Redis) -> dict:
    """Redis memory and persistence, from INFO."""
    info = client.info("memory") | client.info("persistence")
    wanted = (
        "used_memory_human",
        "used_memory_peak_human",
        "maxmemory_human",
        "maxmemory_policy",
        "loading",
        "rdb_changes_since_last_save",
        "rdb_last_save_time",
        "rdb_last_bgsave_status",
        "aof_enabled",
        "aof_last_write_status",
        "aof_last_bgrewrite_status",
    )
    out = {k: info.get(k) for k in wanted if k in info}
    if out.get("rdb_last_save_time"):
        out["rdb_last_save_time"] = _iso(datetime.fromtimestamp(out["rdb_last_save_time"], UTC))
    return out


def _iso(when: datetime | None) -> str | None:
    if when is None or when.year >= 9999:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_text(report: dict) -> str:
    """The report for a terminal."""
    out = [f"Paper Mirror status at {report['at']}", ""]
    lim = report["limiter"]
    out += [
        "arXiv limiter: "
        + ("a request is in flight" if lim["held"] else "idle")
        + f"; next request allowed in {lim['next_in_seconds']:.1f}s; "
        f"{lim['requests']} requests so far"
        + ("; a drain is running" if lim["drain_lock"] else "")
        + ("; a drain is queued" if lim["drain_queued"] else ""),
    ]
    pend = report["pending"]
    out.append(f"Pending first visits: {pend['count']}")
    out += [f"  {p['id']}  waiting {p['age_seconds']:.0f}s" for p in pend["oldest"][:10]]
    out += ["", f"Workers: {len(report['workers'])}"]
    out += [f"  {w['name']}  {w['state']}  {w['job'] or ''}" for w in report["workers"]]
    out += ["", "Scheduler:"]
    for c in report["scheduler"]["cron"]:
        every = c["cron"] or f"every {c['interval']}s"
        out.append(f"  {c['name']}  ({every})  last {c['last'] or '-'}  next {c['next'] or '-'}")
    for s in report["scheduler"]["scheduled"]:
        out.append(f"  scheduled {s['at']}  {s['description']}")
    if not report["scheduler"]["cron"]:
        out.append("  no rq cron scheduler is running")
    out += ["", "Feeds (last fetch per followed category):"]
    for term, o in sorted(report["feeds"]["last"].items()):
        out.append(f"  {term}  {o.get('status')}  {o.get('at')}  {o.get('date') or ''}")
        if o.get("error"):
            out.append(f"    {o['error']}")
    out += ["", f"Fetch errors (first visits): {len(report['fetch_errors'])}"]
    for e in report["fetch_errors"]:
        out.append(f"  {e['at']}  {e['count']} ids: {e['error']}")
        out.append(f"    ids: {', '.join(e['ids'][:20])}")
    out += ["", f"Failed jobs: {len(report['failed_jobs'])}"]
    for j in report["failed_jobs"]:
        out.append(f"  [{j['queue']}] {j['id']}  {j['ended_at'] or ''}  {j['description']}")
        last = (j["error"].strip().splitlines() or [""])[-1]
        if last:
            out.append(f"    {last}")
    out += ["", "Redis:"]
    out += [f"  {k}: {v}" for k, v in report["redis"].items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m server.opsreport [--json]``: print the report for the configured Redis."""
    from papermirror.settings import Settings

    parser = argparse.ArgumentParser(prog="papermirror status")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--url", help="Redis URL (default: the settings' Redis)")
    args = parser.parse_args(argv)
    client = redis.Redis.from_url(args.url or Settings.from_env().redis_address)
    try:
        report = gather(client)
    except redis.RedisError as exc:
        print(f"Redis is not answering: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else as_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
