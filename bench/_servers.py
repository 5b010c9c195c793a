"""Servers the benchmarks start and measure against: nginx serving fixed bytes, WSGI servers.

nginx and wrk are Debian packages, installed only for benchmarks (they are
not run in CI): ``apt-get install nginx wrk``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from papermirror.embedded import free_port

NGINX_CONF = """
user root;
worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp;
  proxy_temp_path {dir}/tmp;
  fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp;
  scgi_temp_path {dir}/tmp;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port};
    root {dir}/www;
    location / {{ default_type text/html; }}
  }}
}}
"""


class Server:
    """A started server process and its base URL."""

    def __init__(self, argv: list[str], base: str, ready_path: str, env=None, cwd=None):
        self.base = base
        self.process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + ready_path, timeout=1).status_code < 500:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{argv[0]} did not come up (exit {self.process.poll()})")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def nginx(tmp: Path, files: dict[str, bytes], workers: int = 2) -> Server:
    """nginx serving ``files`` (path -> bytes) from ``tmp`` on a free port."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    (tmp / "www").mkdir(parents=True, exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    for name, body in files.items():
        path = tmp / "www" / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, dir=tmp, port=port))
    first = "/" + next(iter(files)).lstrip("/")
    return Server([binary, "-c", str(conf)], f"http://127.0.0.1:{port}", first)


def wsgi(kind: str, app: str, workers: int, threads: int, env=None, cwd=None, ready="/") -> Server:
    """``app`` (``module:factory()`` or ``module:callable``) under gunicorn gthread or granian.

    The mirror's app (``server:…``) runs as it is deployed: under granian through
    ``python -m server.serve`` (preload, gc.freeze, proxy headers), and under
    gunicorn with the hooks it had (bench/_gunicorn_conf.py). Any other app runs
    under the bare servers, with the same processes and threads; so does the
    mirror under ``granian-bare`` (granian's CLI: no preload, no gc.freeze).
    """
    port = free_port()
    mirror = app.startswith("server:")
    if kind == "gunicorn":
        conf = ["--config", "python:_gunicorn_conf"] if mirror else []
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            *conf,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            app,
        ]
    elif kind == "granian" and mirror:
        argv = [sys.executable, "-m", "server.serve", "--bind", f"127.0.0.1:{port}"]
        env = {
            **(env or {}),
            "PAPERMIRROR_WEB_WORKERS": str(workers),
            "PAPERMIRROR_WEB_THREADS": str(threads),
            "PAPERMIRROR_LOG_LEVEL": "WARNING",
        }
    elif kind in ("granian", "granian-bare"):
        factory = app.endswith("()")
        argv = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--no-ws",
            "--log-level",
            "warning",
            *(["--factory"] if factory else []),
            app.removesuffix("()"),
        ]
    else:
        raise ValueError(kind)
    return Server(argv, f"http://127.0.0.1:{port}", ready, env=env, cwd=cwd)
