"""RQ workers as threads: `papermirror up` runs its fetch workers in one process.

Each RQ worker only waits on Redis or on arXiv's limiter most of the time, so a
thread serves as well as a process of its own, and shares the jobs' code, the
settings and the kept-alive arXiv session (worker.context) with the others for
no extra memory (bench/memory.py). :func:`threaded` turns a worker class (RQ's
SimpleWorker, worker.warm's WarmWorker) into one that can run in a thread:

* it installs no signal handler (only the main thread may); the process's main
  thread asks it to stop through :meth:`ThreadMixin.stop` instead;
* a job's timeout is RQ's ``TimerDeathPenalty`` (an exception raised in the
  job's thread by a timer), not SIGALRM, which only the main thread receives;
* it has a name and a Redis client of its own (named after it, so that a stop
  can wake it from its blocking wait on the queue with ``CLIENT UNBLOCK``), and
  so its own heartbeat and registration in RQ;
* RQ's ``shutdown`` command, which would SIGINT the worker's pid (here every
  worker of the process), stops only the thread; worker.services starts it
  again, as the supervisor restarts a process that exits.

The arXiv limiter is unchanged: threads of one process share its per-process
floor (one request at a time from this process) besides the Redis lock that
every process takes.
"""

from __future__ import annotations

import logging

import redis
from rq.command import parse_payload
from rq.exceptions import StopRequested
from rq.timeouts import TimerDeathPenalty

from papermirror import malloc

log = logging.getLogger("worker.threads")

# Commands a worker blocks in while it waits for a job (rq.queue.Queue.lpop / lmove).
BLOCKING = frozenset({"blmove", "blpop"})
# A thread worker's longest wait on the queue before it looks at its stop flag
# again, should a stop miss it (RQ's own is worker_ttl - 15 s, nearly 7 minutes).
DEQUEUE_WAIT = 60


def unblock(client: redis.Redis, name: str) -> int:
    """Wake every connection named ``name`` blocked on a queue, with an error; how many.

    Harmless when there is none; a Redis that is away or refuses CLIENT leaves
    the worker to notice its stop flag after its wait (:data:`DEQUEUE_WAIT`).
    """
    woken = 0
    try:
        for c in client.client_list():
            if c.get("name") == name and c.get("cmd") in BLOCKING:
                woken += bool(client.client_unblock(int(c["id"]), error=True))
    except redis.RedisError as exc:
        log.debug("could not wake worker %s: %s", name, exc)
    return woken


class ThreadMixin:
    """What a RQ worker class needs to run in a thread; see the module docstring."""

    death_penalty_class = TimerDeathPenalty

    @property
    def dequeue_timeout(self) -> int:
        """Wait at most :data:`DEQUEUE_WAIT` on the queue at a time."""
        return min(DEQUEUE_WAIT, super().dequeue_timeout)

    def _install_signal_handlers(self) -> None:
        pass

    def execute_job(self, job, queue) -> None:
        """Run the job, then give what it freed back to the system (see papermirror.malloc)."""
        try:
            super().execute_job(job, queue)
        finally:
            # A feed's parse leaves megabytes free in the shared arena, held for good by
            # an idle process unless trimmed; trimmed in the background, so that this
            # thread takes its next job at once.
            malloc.trim_soon()

    def procline(self, message: str) -> None:
        """No process title: the threads share one process."""

    def stop(self) -> None:
        """Stop after the current job, if any; from any thread. Wakes an idle worker at once."""
        self._stop_requested = True
        unblock(self.connection, self.name)

    def handle_payload(self, message) -> None:
        """RQ's commands; ``shutdown`` stops this thread, not the whole process."""
        if parse_payload(message).get("command") == "shutdown":
            self.log.info("Worker %s: shutdown command received; stopping this thread", self.name)
            self.stop()
            return
        super().handle_payload(message)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """RQ's wait for a job, ended by :meth:`stop` (RQ's own never looks at the flag)."""
        if timeout is None:  # burst mode: RQ's returns at once
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        while not self._stop_requested:
            try:
                # One wait of at most ``timeout``: None when it passed with no job.
                result = super().dequeue_job_and_maintain_ttl(timeout, timeout)
            except redis.ResponseError as exc:
                if self._stop_requested and str(exc).startswith("UNBLOCKED"):
                    break
                raise
            if result is not None:
                return result
        raise StopRequested()


def threaded(worker_class: type) -> type:
    """``worker_class`` made able to run in a thread (see :class:`ThreadMixin`)."""
    return type(f"Thread{worker_class.__name__}", (ThreadMixin, worker_class), {})
