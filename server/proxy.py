"""Believe a reverse proxy's X-Forwarded-Proto, from the addresses the operator trusts.

The WSGI server (granian) does not read proxy headers itself. This middleware
does what gunicorn's ``--forwarded-allow-ips`` did: when the request comes from
an address in ``PAPERMIRROR_FORWARDED_ALLOW_IPS`` (comma-separated, ``*`` for
any; default loopback only), ``X-Forwarded-Proto`` sets the request's scheme,
so absolute links and the extension zip say ``https://`` behind a TLS proxy.
"""

from __future__ import annotations

import os

ENV = "PAPERMIRROR_FORWARDED_ALLOW_IPS"
DEFAULT = "127.0.0.1,::1"
SCHEMES = {"http", "https"}


def trusted(spec: str | None) -> frozenset[str] | None:
    """The trusted addresses, or None for any (``*``)."""
    names = {a.strip() for a in (spec if spec is not None else DEFAULT).split(",") if a.strip()}
    return None if "*" in names else frozenset(names)


class ForwardedProto:
    """WSGI middleware applying X-Forwarded-Proto from trusted addresses."""

    def __init__(self, app, allow: str | None = None):
        self.app = app
        self.allow = trusted(allow if allow is not None else os.environ.get(ENV))

    def __call__(self, environ, start_response):
        proto = environ.get("HTTP_X_FORWARDED_PROTO")
        if proto:
            remote = environ.get("REMOTE_ADDR", "")
            if self.allow is None or remote in self.allow:
                scheme = proto.split(",")[0].strip().lower()
                if scheme in SCHEMES:
                    environ["wsgi.url_scheme"] = scheme
            else:
                # An untrusted client must not change the links others are served.
                environ.pop("HTTP_X_FORWARDED_PROTO")
        return self.app(environ, start_response)
