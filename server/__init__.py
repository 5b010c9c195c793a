"""The Paper Mirror web server: a Flask app factory.

Served by ``python -m server.serve`` (granian), which ``papermirror up`` and the container run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from papermirror.settings import Settings

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; settings come from ``PAPERMIRROR_*`` unless given."""
    # Imported here, not above: the web server's main process imports this package
    # but serves nothing itself, and Flask costs it ~9 MB (server/serve.py).
    from flask import Flask

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    # Keep `//` in paths: the prefix form /https://arxiv.org/abs/… depends on it.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    logging.basicConfig(level=settings.log_level)

    from server import (
        api,
        errors,
        extension,
        filters,
        health,
        listings,
        pages,
        papers,
        services,
        starred,
    )
    from server.caching import init_app as init_caching
    from server.outage import init_app as init_outage  # Redis errors: a clear 503
    from server.search import bp as search_bp

    services.init_app(app)
    filters.init_app(app)
    errors.init_app(app)
    init_outage(app)
    if settings.metrics_on:  # else prometheus-client is never loaded
        from server import metrics as metrics_endpoint

        metrics_endpoint.init_app(app)
    for module in (pages, papers, api, health, extension, listings, starred):
        app.register_blueprint(module.bp)
    app.after_request(api.allow_any_origin)
    from server import admin, openapi

    app.register_blueprint(admin.bp)
    app.register_blueprint(openapi.bp)
    # --- faq ---
    from server import faq

    app.register_blueprint(faq.bp)
    app.register_blueprint(search_bp)
    # Registered last so every real route wins over the catch-all prefix form.
    app.register_blueprint(papers.prefix_bp)
    init_caching(app)  # after the blueprints: wraps the finished app's WSGI callable
    return app
