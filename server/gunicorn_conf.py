"""gunicorn settings for Paper Mirror's web processes (`gunicorn -c python:server.gunicorn_conf`).

Command-line flags still win, so `papermirror up` and the container pass
bind/workers/threads there and share these hooks.
"""

import gc
import sys

worker_class = "gthread"
# Keep-alive connections are cheap for gthread; a short timeout frees threads for busy sites.
keepalive = 5


def post_fork(server, worker):
    """Tune each web process for short, latency-bound requests."""
    # Many threads share one GIL: the default 5 ms switch interval lets one busy
    # thread delay the others' quick page answers by whole 5 ms slices.
    sys.setswitchinterval(0.0005)
    # Everything loaded so far lives for the process' lifetime; keep it out of
    # the collector's way so collections stay short.
    gc.freeze()
