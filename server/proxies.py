"""Whom the web server believes about a request's client: a trusted reverse proxy, one hop.

``PAPERMIRROR_FORWARDED_ALLOW_IPS`` lists the peers (addresses or networks, ``*``
for any) whose ``X-Forwarded-Proto`` and ``X-Forwarded-For`` count, as gunicorn's
``--forwarded-allow-ips`` did. From such a peer, Werkzeug's ``ProxyFix`` takes
the scheme (so links say https) and the *last* forwarded address, the one the
proxy itself appended: a client cannot pose as another by sending its own
``X-Forwarded-For``, so per-client limits hold. Anyone else's headers are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from werkzeug.middleware.proxy_fix import ProxyFix


def trusted_peers(spec: str) -> Callable[[str | None], bool]:
    """A test of a peer address against ``spec`` (comma-separated; ValueError if malformed)."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if "*" in parts:
        return lambda address: True
    try:
        networks = [ipaddress.ip_network(p, strict=False) for p in parts]
    except ValueError as exc:
        raise ValueError(f"PAPERMIRROR_FORWARDED_ALLOW_IPS={spec!r}: {exc}") from None

    def trusted(address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").split("%")[0])
        except ValueError:
            return False
        return any(ip in net for net in networks)

    return trusted


class BehindProxy:
    """A WSGI app that believes ``X-Forwarded-For``/``-Proto`` from trusted peers only."""

    def __init__(self, app, spec: str):
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)
        self.trusted = trusted_peers(spec)

    def __call__(self, environ, start_response):
        """Answer through ProxyFix for a trusted peer, as is for anyone else."""
        if self.trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
