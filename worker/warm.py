"""The RQ worker class the fetch workers run: RQ's SimpleWorker, warmed up.

SimpleWorker runs each job in its own long-lived process, no fork per job
(bench/worker_class.py: 5.7x faster from enqueue to end than the forking
Worker); `papermirror up` runs it as threads of one process (worker.threads).
This subclass also imports the jobs and builds the worker context (settings,
Redis, the kept-alive arXiv session, one per process) before the first job, so
even a freshly started worker's first fetch starts at once.
"""

from __future__ import annotations

from rq.worker import SimpleWorker


class WarmWorker(SimpleWorker):
    """A SimpleWorker whose first job finds everything imported and built."""

    def work(self, *args, **kwargs):
        """Warm up, then work as RQ's SimpleWorker does."""
        import worker.feeds  # noqa: F401 (the daily job's module)
        import worker.jobs  # noqa: F401
        from worker.context import context

        context()
        return super().work(*args, **kwargs)
