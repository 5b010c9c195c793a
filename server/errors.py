"""Error pages: clear words for people, JSON for the API, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def _respond(status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 404:
            return _respond(404, "Not found", "There is no page at this address.")
        return _respond(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(UnicodeDecodeError)
    def undecodable(exc):
        return _respond(400, "Bad request", "The address holds bytes that are not valid UTF-8.")

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unhandled error on %s", request.path)
        return _respond(
            500, "Something went wrong", "The mirror hit an unexpected error. It has been logged."
        )
