"""Time to first render of a listing in Chromium, math on against math off, and bytes sent.

The real 2024-11-28 feed (1504 papers) is loaded from the replay arXiv server
into an embedded Redis; two apps serve it on loopback, one with the bundled
KaTeX (the default) and one with PAPERMIRROR_MATH_RENDERER=off, under gunicorn-less
werkzeug threads (the same for both). Each URL is opened in a fresh Chromium
context (cold cache), alternating math on and off, REPEATS times.

Beside what the browser received, each page is fetched once with
``Accept-Encoding: gzip``: the bytes sent and, for comparison, the HTML's gzip -6 size.

"rendered" is the latest of first contentful paint, math typeset and the math
fonts loaded. Bytes are what the browser received (transfer sizes, so with
whatever compression the server does), page plus assets, cold cache.
Goal (issue 10): math costs readers little: the ratio rendered(on)/rendered(off) near 1.
Needs node, extension/node_modules (npm ci) and Debian's chromium.
Usage: python bench/render.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path

import _common
import redis
from werkzeug.serving import make_server

from papermirror import embedded
from papermirror.arxiv.http import PoliteSession
from papermirror.arxiv.limiter import ArxivLimiter
from papermirror.daily import fetch_daily
from server import create_app
from tests.replay import ReplayServer
from tests.stack import stack_settings
from tests.test_listings import ALL_FEED, ARCHIVES

LISTING = "/arxiv/cs.AI"
PAPER = "/arxiv/2411.18509"  # math in its title and abstract
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _stats(values: list[float]) -> dict:
    return {
        "min": round(min(values), 1),
        "median": round(statistics.median(values), 1),
        "max": round(max(values), 1),
    }


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    """Run the benchmark and print JSON."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ReplayServer() as replay:
        store = embedded.start(Path(tmp), appendonly=False)
        try:
            client = redis.Redis.from_url(store.url)
            replay.route("/rss/" + "+".join(ARCHIVES), ALL_FEED)
            base = dict(arxiv_rss_url=replay.url + "/rss/", categories=ARCHIVES)
            settings = stack_settings(store.url, replay.api_url, **base)
            session = PoliteSession(settings, ArxivLimiter(client, settings.arxiv_min_interval))
            fetch_daily(settings, client, session)
            on = _serve(create_app(settings))
            off_settings = stack_settings(store.url, replay.api_url, math_renderer="off", **base)
            off = _serve(create_app(off_settings))
            urls = {}
            for name, path in (("listing", LISTING), ("paper", PAPER)):
                urls[f"{name}_math_on"] = f"http://127.0.0.1:{on.server_port}{path}"
                urls[f"{name}_math_off"] = f"http://127.0.0.1:{off.server_port}{path}"
            # Warm the servers' page caches: the browser's loads measure the browser.
            import requests

            wire = {}
            for name, url in urls.items():
                requests.get(url, timeout=30)
                resp = requests.get(
                    url, timeout=30, headers={"Accept-Encoding": "gzip"}, stream=True
                )
                raw = resp.raw.read(decode_content=False)
                body = (
                    gzip.decompress(raw) if resp.headers.get("Content-Encoding") == "gzip" else raw
                )
                wire[name] = {
                    "html_bytes_sent": len(raw),
                    "content_encoding": resp.headers.get("Content-Encoding", "none"),
                    "html_bytes_gzip6": len(gzip.compress(body, 6)),
                }
            env = {
                **os.environ,
                "NODE_PATH": str(_common.ROOT / "extension" / "node_modules"),
                "CHROMIUM": CHROMIUM,
                "URLS": json.dumps(urls),
                "REPEATS": str(args.repeats),
            }
            done = subprocess.run(
                ["node", str(Path(__file__).with_name("render.cjs"))],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=True,
            )
            on.shutdown()
            off.shutdown()
        finally:
            store.stop()
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    result = {"repeats": args.repeats}
    for name, samples in runs.items():
        result[name] = {
            "rendered_ms": _stats([s["rendered_ms"] for s in samples]),
            "fcp_ms": _stats([s["fcp_ms"] or 0 for s in samples]),
            "bytes_cold": samples[0]["total_bytes"],
            "html_bytes": samples[0]["html_bytes"],
            "requests": samples[0]["requests"],
            **wire[name],
            "math_spans": samples[0]["math_spans"],
            "typeset": samples[0]["typeset"],
        }
    for name in ("listing", "paper"):
        ratios = [
            a["rendered_ms"] / b["rendered_ms"]
            for a, b in zip(runs[f"{name}_math_on"], runs[f"{name}_math_off"], strict=True)
        ]
        result[f"{name}_rendered_ratio_on_off"] = {
            k: round(v, 2) for k, v in _stats(ratios).items()
        }
    _common.emit(result)


if __name__ == "__main__":
    main()
