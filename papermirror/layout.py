"""How many processes of each kind a mirror runs, from the settings and the machine's cores.

`papermirror up`, the web server (server/serve.py, so compose follows it too) and /healthz
read these, so they agree on what a whole mirror is.
"""

from __future__ import annotations

import os

from papermirror.settings import Settings

MAX_AUTO_WEB = 4


def web_processes(settings: Settings) -> int:
    """Web server worker processes: the setting, else one per two cores (1 to 4).

    Each is threaded, so waits (first visits) cost no process; a cached page
    takes well under a millisecond of CPU, so one process serves a small
    server's readers. Half the cores leaves the other half to Redis, the RQ
    workers and the kernel's network work, and each process costs ~22 MB.
    """
    if settings.web_workers > 0:
        return settings.web_workers
    return max(1, min(MAX_AUTO_WEB, (os.cpu_count() or 1) // 2))


def rq_workers(settings: Settings) -> int:
    """RQ workers: the setting (default 2); threads of one process under `papermirror up`.

    arXiv's limiter serialises every request, so more workers do not fetch
    faster; two let a first visit be fetched while the other runs the daily job.
    """
    return max(1, settings.workers)
