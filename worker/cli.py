"""``papermirror fetch``'s RQ half: enqueue the daily feed job now and wait for its result.

``papermirror fetch`` (papermirror.commands) runs ``python -m worker.cli fetch
[CATEGORY ...]`` with PAPERMIRROR_REDIS_URL set, since the ``papermirror``
package must not import RQ. The job is the very one ``rq cron`` enqueues each
weekday. When no worker listens on the queue (the mirror is not running), a
burst worker in this process runs it.
"""

from __future__ import annotations

import argparse
import sys
import time

import redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job

from papermirror import keys
from papermirror.settings import Settings
from worker.feeds import DAILY_JOB, JOB_TIMEOUT

POLL = 0.2


def run_fetch(client: redis.Redis, categories: list[str] | None) -> Job:
    """Enqueue the daily job for ``categories`` (None: the followed ones) and wait for it."""
    queue = Queue(keys.FETCH_QUEUE, connection=client)
    job = queue.enqueue(
        DAILY_JOB,
        kwargs={"categories": categories},
        job_timeout=JOB_TIMEOUT,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description="papermirror fetch",
    )
    if Worker.count(queue=queue) == 0:
        print("No worker is running; running the job in this process.", file=sys.stderr)
        SimpleWorker([queue], connection=client).work(burst=True, logging_level="WARNING")
    deadline = time.monotonic() + JOB_TIMEOUT + 60
    while not (job.is_finished or job.is_failed):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the fetch job {job.id} did not finish in time")
        time.sleep(POLL)
        job.refresh()
    return job


def describe(result: dict) -> list[str]:
    """One line per followed term: status, day and counts, or the error."""
    lines = []
    for o in result.get("outcomes", []):
        c = o.get("counts") or {}
        counts = f"{c.get('new', 0)} new, {c.get('cross', 0)} cross-lists, "
        counts += f"{c.get('replace', 0)} replacements"
        line = f"{o['term']:<12} {o['status']:<6} {o.get('date') or '-':<10}  {counts}"
        if o.get("error"):
            line += f"  ({o['error']})"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m worker.cli fetch [CATEGORY ...]``; exit 0 when every feed was fetched."""
    parser = argparse.ArgumentParser(prog="papermirror")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fetch", help="fetch the daily feeds now and wait")
    p.add_argument("categories", nargs="*")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    client = redis.Redis.from_url(settings.redis_address)
    job = run_fetch(client, args.categories or None)
    if job.is_failed:
        print(f"the fetch job failed:\n{job.latest_result().exc_string}", file=sys.stderr)
        return 1
    result = job.return_value() or {}
    print("\n".join(describe(result)))
    ok = all(o["status"] in ("ok", "empty") for o in result.get("outcomes", []))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
