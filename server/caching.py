"""HTTP caching policy: Cache-Control and ETags on every cacheable answer, and the micro-cache.

* Pages with a record behind them (papers, listings, feeds, the JSON API) set
  their own ETag from the stored bytes (:func:`server.pagecache.conditional_response`).
* Every other successful GET gets an ETag over its body, so a revalidation is
  a 304, and a Cache-Control that suits it (:data:`POLICY`, by endpoint).
* Static files are linked with a version (:func:`server.filters.static_url`)
  and cached for a year when the version matches.
"""

from __future__ import annotations

from flask import Flask, Response, request

from server.filters import static_version
from server.microcache import MARK, ROUTE, MicroCache

YEAR = "public, max-age=31536000, immutable"
# Endpoint -> (Cache-Control, micro-cache seconds or None).
POLICY = {
    "pages.home": ("public, max-age=60", None),  # the day's fetch status may change
    "extension.page": ("public, max-age=3600", 60.0),
    "api.resolve_text": ("public, max-age=86400", 60.0),  # a pure function of the query
}
DEFAULT = "no-cache"  # store, but revalidate: the ETag makes that a 304


def init_app(app: Flask) -> None:
    """Install the after-request policy and the micro-cache in front of the app."""
    settings = app.config["SETTINGS"]

    @app.after_request
    def cache_headers(resp: Response) -> Response:
        if request.method not in ("GET", "HEAD") or resp.status_code != 200:
            return resp
        if request.url_rule is not None:
            resp.headers[ROUTE] = request.url_rule.rule
        if request.endpoint == "static":
            name = (request.view_args or {}).get("filename", "")
            versioned = request.args.get("v") == static_version(name)
            resp.headers["Cache-Control"] = YEAR if versioned else "public, max-age=300"
            resp.headers[MARK] = "3600" if versioned else "300"
            return resp
        if resp.is_streamed or resp.direct_passthrough:
            return resp
        policy, ttl = POLICY.get(request.endpoint, (DEFAULT, None))
        if "Cache-Control" not in resp.headers:
            resp.headers["Cache-Control"] = policy
            if ttl is not None:
                resp.headers[MARK] = str(ttl)
        if resp.get_etag() == (None, None):
            resp.add_etag()
        return resp.make_conditional(request)

    if settings.micro_cache_mb > 0:
        app.wsgi_app = MicroCache(
            app.wsgi_app,
            max_bytes=settings.micro_cache_mb << 20,
            stale_seconds=settings.stale_seconds,
            on_hit=_metrics_counter(settings),
        )


def _metrics_counter(settings):
    """With metrics on, count micro-cache hits in the same series as Flask's answers."""
    if not settings.metrics_on:
        return None
    from papermirror import metrics

    hits = metrics.PAGE_CACHE.labels("pages", "hit")

    def on_hit(route: str, method: str, status: str) -> None:
        metrics.HTTP_REQUESTS.labels(route or "(unmatched)", method, status).inc()
        metrics.HTTP_LATENCY.labels(route or "(unmatched)").observe(0.0)
        hits.inc()  # the micro-cache is the pages' first-level cache now

    return on_hit
