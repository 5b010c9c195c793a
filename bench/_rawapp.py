"""A raw WSGI app answering fixed bytes: the floor under any Flask route (bench/servers.py)."""

BODY = b"<!doctype html><title>raw</title>" + b"x" * 7400
HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    """Answer every request with BODY."""
    start_response("200 OK", HEADERS)
    return [BODY]
