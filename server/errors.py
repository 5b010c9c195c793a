"""Error pages: clear words for people, JSON for the API, never a stack trace.

Three layers, so that no input ever reaches a bare 500:

* Flask error handlers answer HTTP errors, undecodable bytes and Redis outages
  with the site's own page (or JSON under ``/api/``), and never show exception
  text: details go to the log (and to /admin for fetch errors).
* If rendering that page fails in turn, a plain-text answer is sent instead.
* :class:`Guard` wraps the WSGI app: it refuses a ``Host`` header that cannot
  be a host name (werkzeug would raise ``BadHost`` while building URLs, and the
  error page's own ``url_for`` with it) and, last of all, turns anything that
  still escapes Flask into a plain 500 page. Every answer, its own included,
  carries ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from functools import lru_cache

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

NOSNIFF = ("X-Content-Type-Options", "nosniff")
_PORT = re.compile(r"[0-9]{1,5}")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")


def _plain(status: int, text: str) -> Response:
    resp = Response(text + "\n", status=status, mimetype="text/plain")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _respond(status: int, title: str, message: str):
    try:
        if request.path.startswith("/api/"):
            return jsonify(error=message), status
        return render_template("error.html", status=status, title=title, message=message), status
    except Exception:
        # The page itself could not be built (a broken template, a host url_for
        # cannot use): the reader still gets an answer, with the same status.
        log.exception("error page for %s could not be rendered", status)
        return _plain(status, f"{title}. {message}")


@lru_cache(maxsize=256)  # a server sees few hosts; the check costs ~10 µs uncached
def valid_host(host: str) -> bool:
    """Whether a ``Host`` header value is a name werkzeug can build URLs with.

    Accepts ``name[:port]`` with IDNA-encodable labels of 1 to 63 characters
    (``xn--`` labels must decode), and ``[ipv6][:port]``. Empty is fine: the
    server then uses its own name.
    """
    if not host:
        return True
    if len(host) > 260 or any(c in host for c in "/\\?#@ \t\r\n"):
        return False
    if host.startswith("["):
        addr, sep, rest = host[1:].partition("]")
        if not sep or (rest and not (rest[0] == ":" and _PORT.fullmatch(rest[1:]))):
            return False
        try:
            ipaddress.IPv6Address(addr)
        except ValueError:
            return False
        return True
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    if colon and not (_PORT.fullmatch(port) and int(port) <= 65535):
        return False
    try:
        ascii_name = name.encode("idna").decode("ascii")
        ascii_name.encode("ascii").decode("idna")
    except (UnicodeError, ValueError):
        return False
    labels = ascii_name.rstrip(".").split(".")
    return all(len(label) <= 63 and _LABEL.fullmatch(label) for label in labels)


class Guard:
    """WSGI middleware: refuse unusable ``Host`` headers; never let an error out bare."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def with_nosniff(status, headers, exc_info=None):
            if not any(k.lower() == "x-content-type-options" for k, _ in headers):
                headers = [*headers, NOSNIFF]
            return start_response(status, headers, exc_info)

        host = environ.get("HTTP_HOST", "")
        if not valid_host(host):
            log.info("refused a request with an unusable Host header (%d chars)", len(host))
            resp = _plain(400, "Bad request. The Host header is not a valid host name.")
            return resp(environ, with_nosniff)
        try:
            return self.app(environ, with_nosniff)
        except Exception:
            log.exception("unhandled error outside the app's handlers")
            resp = _plain(500, "Something went wrong. The mirror hit an unexpected error.")
            return resp(environ, with_nosniff)


def init_app(app: Flask) -> None:
    """Register the handlers, the nosniff header and the WSGI guard."""
    app.wsgi_app = Guard(app.wsgi_app)

    @app.after_request
    def nosniff(resp: Response) -> Response:
        resp.headers.setdefault(*NOSNIFF)
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 404:
            return _respond(404, "Not found", "There is no page at this address.")
        return _respond(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(UnicodeError)
    def undecodable(exc):
        return _respond(400, "Bad request", "The request holds bytes that are not valid UTF-8.")

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error on %s", request.path)
        return _respond(
            500, "Something went wrong", "The mirror hit an unexpected error. It has been logged."
        )
