"""The baseline of bench/servers.py: gunicorn gthread as Paper Mirror ran it until granian.

`gunicorn -c python:_gunicorn_conf` (bench/ on the path). Only the hooks that
matter for speed and memory are kept: preload, compiled templates, gc.freeze
before and after the fork, and a short GIL switch interval in the workers.
"""

import gc
import sys

worker_class = "gthread"
# Load the app once, in the master, and fork it: the workers share its memory pages.
preload_app = True
keepalive = 5


def pre_fork(server, worker):
    """Compile the templates once, then keep what the master loaded out of the collector's way."""
    app = server.app.wsgi()
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".xml"))):
        app.jinja_env.get_template(name)
    gc.freeze()


def post_fork(server, worker):
    """A short switch interval: many threads share one GIL; freeze what is loaded."""
    sys.setswitchinterval(0.0005)
    gc.freeze()
