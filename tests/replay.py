"""A replay arXiv server for tests and benchmarks, built from real recorded responses.

``/api/query?id_list=…`` answers like export.arxiv.org: the real ``<entry>``
elements of every ``api*.xml`` fixture (about 30 papers), indexed by canonical
id, wrapped in the envelope of a real 2026 response. Unknown well-formed ids
are silently dropped; a malformed one gets the real HTTP 400 Error feed.

Other fixtures are served with :meth:`ReplayServer.route`, faults are injected
with :meth:`ReplayServer.inject`, and every request is logged with its arrival
time. Standalone: ``python tests/replay.py --port 8765``.

Only the standard library is used, so this file imports as ``tests.replay``
and, with ``tests/`` on ``sys.path``, as ``replay``.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arxiv"

ENVELOPE_FIXTURE = "api2026_idlist_single_2104.12255v1.xml"
ERROR_FIXTURE = "api2026_error_incorrect_id_abc_http400.xml"
EMPTY_FIXTURE = "api2026_empty_idlist_0000.0000.xml"
ATOM_TYPE = "application/atom+xml; charset=UTF-8"

# What arXiv accepts as well-formed (it then drops unknown ids silently).
_WELL_FORMED = re.compile(
    r"(?:\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[a-z][a-z-]*)?/\d{7})(?:v\d+)?", re.IGNORECASE
)
_ENTRY = re.compile(r"[ \t]*<entry>.*?</entry>\n?", re.DOTALL)
_ENTRY_ID = re.compile(r"<id>https?://arxiv\.org/abs/(.+?)(?:v(\d+))?</id>")


def canonical(paper_id: str) -> tuple[str, int | None]:
    """(canonical id, version) of a well-formed id: subject class dropped, archive lower."""
    m = re.fullmatch(r"(.+?)(?:v(\d+))?", paper_id.strip())
    base, version = m[1], int(m[2]) if m[2] else None
    if "/" in base:
        archive, number = base.split("/", 1)
        base = f"{archive.split('.')[0].lower()}/{number}"
    return base, version


def load_fixture(name: str | Path, fixtures_dir: Path = FIXTURES) -> bytes:
    """Bytes of a fixture, decompressed if it ends in .bz2 or .gz."""
    path = Path(name) if Path(name).is_absolute() else fixtures_dir / name
    data = path.read_bytes()
    if path.suffix == ".bz2":
        return bz2.decompress(data)
    if path.suffix == ".gz":
        return gzip.decompress(data)
    return data


def guess_type(name: str) -> str:
    """Content-Type arXiv uses for a fixture of this kind."""
    name = Path(name).name.removesuffix(".bz2").removesuffix(".gz")
    if name.startswith(("api", "atom")):
        return ATOM_TYPE
    if name.startswith("rss"):
        return "application/rss+xml; charset=utf-8"
    if name.endswith(".html"):
        return "text/html; charset=utf-8"
    if name.endswith(".json"):
        return "application/json"
    return "text/xml; charset=utf-8"


@dataclass
class LoggedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    t: float  # time.monotonic() at arrival
    wall: float  # time.time() at arrival
    done: float | None = None  # time.monotonic() once the answer was sent (or dropped)
    fault: str | None = None

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        return self.params.get(name, [default])[0]


@dataclass
class Reply:
    """A canned answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    kind: str
    count: int
    path: str | None
    options: dict


Handler = Callable[[LoggedRequest], Reply]


class ApiIndex:
    """The real API entries of the fixtures, by canonical id."""

    def __init__(self, fixtures_dir: Path = FIXTURES) -> None:
        self.fixtures_dir = fixtures_dir
        self.entries: dict[str, tuple[int, str]] = {}
        # 2016 files first, so a 2026 copy of the same paper wins.
        for path in sorted(fixtures_dir.glob("api*.xml")):
            for m in _ENTRY.finditer(path.read_text("utf-8")):
                found = _ENTRY_ID.search(m[0])
                if found:
                    paper_id, version = canonical(found[1])[0], int(found[2] or 1)
                    self.entries[paper_id] = (version, m[0])
        envelope = (fixtures_dir / ENVELOPE_FIXTURE).read_text("utf-8")
        self.head = envelope[: envelope.index("  <entry>")]
        self.error = (fixtures_dir / ERROR_FIXTURE).read_text("utf-8")

    def query(self, id_list: str, max_results: int = 10, start: int = 0) -> Reply:
        """The answer export.arxiv.org gives to ``id_list=…``."""
        ids = [i.strip() for i in id_list.split(",") if i.strip()]
        for paper_id in ids:
            if not _WELL_FORMED.fullmatch(paper_id):
                # The recorded body is for "abc"; name the actual bad id, as arXiv does.
                body = self.error.replace("for_abc", f"for_{paper_id}")
                body = body.replace("format for abc", f"format for {paper_id}")
                return Reply(400, body.encode(), {"Content-Type": ATOM_TYPE})
        hits = []
        for paper_id in ids:
            base, version = canonical(paper_id)
            entry = self.entries.get(base)
            if entry and (version is None or version == entry[0]) and entry[1] not in hits:
                hits.append(entry[1])
        page = hits[start : start + max_results]
        head = re.sub(r"id_list=[^<\"]*?(?=&amp;|<|\")", lambda _: f"id_list={id_list}", self.head)
        head = head.replace("max_results=100", f"max_results={max_results}")
        head = re.sub(r"(<opensearch:totalResults>)\d+", rf"\g<1>{len(hits)}", head)
        head = re.sub(r"(<opensearch:itemsPerPage>)\d+", rf"\g<1>{max_results}", head)
        head = re.sub(r"(<opensearch:startIndex>)\d+", rf"\g<1>{start}", head)
        body = head + "".join(page) + "</feed>\n"
        return Reply(200, body.encode(), {"Content-Type": ATOM_TYPE})


class ReplayServer:
    """The replay server; use as a context manager or call start()/stop()."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, fixtures_dir: Path = FIXTURES
    ) -> None:
        self.host, self.port = host, port
        self.fixtures_dir = fixtures_dir
        self.api = ApiIndex(fixtures_dir)
        self.log: list[LoggedRequest] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._routes: list[tuple[str, dict[str, str], Handler]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.route("/api/query", self._api_query)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API endpoint, for ``Settings.arxiv_api_url``."""
        return self.url + "/api/query"

    def start(self) -> ReplayServer:
        """Bind and serve in a background thread."""
        handler = type("Handler", (_RequestHandler,), {"replay": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def route(
        self,
        path: str,
        body: str | Path | bytes | Handler,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Serve ``body`` (a fixture name, bytes, or ``handler(request) -> Reply``) at ``path``.

        ``path`` may carry a query (``/oai?verb=Identify``): those parameters
        must then match; the route naming the most parameters wins. A later
        route for the same path and query replaces the earlier one.
        """
        split = urlsplit(path)
        wanted = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if callable(body):
            handler = body
        else:
            if isinstance(body, bytes):
                data, kind = body, content_type or "application/xml; charset=utf-8"
            else:
                data, kind = load_fixture(body, self.fixtures_dir), content_type or guess_type(body)
            reply = Reply(status, data, {"Content-Type": kind, **(headers or {})})

            def handler(_request: LoggedRequest, reply: Reply = reply) -> Reply:
                return reply

        with self._lock:
            self._routes = [r for r in self._routes if (r[0], r[1]) != (split.path, wanted)]
            self._routes.append((split.path, wanted, handler))

    def inject(self, kind: str, count: int = 1, path: str | None = None, **options) -> None:
        """Spoil the next ``count`` requests (whose path starts with ``path``, if given).

        Kinds: ``status`` (``status=503``, ``retry_after=N`` or any ``headers``,
        ``body`` bytes or fixture name), ``slow`` (``delay`` seconds, then the
        normal answer), ``malformed`` (200 with the normal answer cut short, or
        ``body``), ``drop`` (close the connection without answering), ``hang``
        (answer nothing until the client gives up and closes, or ``delay``
        seconds pass, then the normal answer; ``request.done`` marks when it
        ended), ``redirect`` (``status=302`` to ``location``, by default the
        same path and query here, so ``count`` redirects make a chain that ends
        in the normal answer). HTTP 429 without Retry-After is
        ``inject("status", status=429)``.
        """
        if kind not in ("status", "slow", "malformed", "drop", "hang", "redirect"):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(_Fault(kind, count, path, options))

    def clear(self) -> None:
        """Forget the request log and pending faults."""
        with self._lock:
            self.log.clear()
            self._faults.clear()
            self.max_in_flight = 0

    def requests(self, path_prefix: str = "") -> list[LoggedRequest]:
        """Logged requests, oldest first, optionally only under ``path_prefix``."""
        with self._lock:
            return [r for r in self.log if r.path.startswith(path_prefix)]

    def min_gap(self, path_prefix: str = "") -> float | None:
        """The smallest time between two request arrivals, or None with fewer than two."""
        times = sorted(r.t for r in self.requests(path_prefix))
        return min((b - a for a, b in zip(times, times[1:], strict=False)), default=None)

    # Called by the request handler threads.

    def _arrive(self, request: LoggedRequest) -> _Fault | None:
        with self._lock:
            self.log.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            for fault in self._faults:
                if fault.path is None or request.path.startswith(fault.path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    request.fault = fault.kind
                    return fault
        return None

    def _leave(self, request: LoggedRequest) -> None:
        with self._lock:
            self._in_flight -= 1
            request.done = time.monotonic()

    def _answer(self, request: LoggedRequest) -> Reply:
        with self._lock:
            candidates = [
                (len(wanted), handler)
                for path, wanted, handler in self._routes
                if path in (request.path, unquote(request.path))
                and all(request.param(k) == v for k, v in wanted.items())
            ]
        if not candidates:
            return Reply(404, b"not found\n", {"Content-Type": "text/plain"})
        return max(candidates, key=lambda c: c[0])[1](request)

    def _api_query(self, request: LoggedRequest) -> Reply:
        return self.api.query(
            request.param("id_list", ""),
            int(request.param("max_results", "10")),
            int(request.param("start", "0")),
        )

    def _faulty(
        self, fault: _Fault, request: LoggedRequest, gone: Callable[[], bool] = lambda: False
    ) -> Reply | None:
        opts = fault.options
        if fault.kind == "hang":
            until = time.monotonic() + opts.get("delay", 3600.0)
            while time.monotonic() < until:
                if gone():
                    return None
                time.sleep(0.02)
            return self._answer(request)
        if fault.kind == "redirect":
            target = opts.get("location") or request.path + (
                "?" + request.query if request.query else ""
            )
            headers = {"Location": target, "Content-Type": "text/html"}
            return Reply(opts.get("status", 302), b"<html>moved</html>\n", headers)
        if fault.kind == "slow":
            time.sleep(opts.get("delay", 1.0))
            return self._answer(request)
        if fault.kind == "malformed":
            if "body" in opts:
                return Reply(200, self._bytes(opts["body"]), {"Content-Type": ATOM_TYPE})
            reply = self._answer(request)
            cut = max(1, len(reply.body) // 2)
            return Reply(200, reply.body[:cut], reply.headers)
        if fault.kind == "status":
            headers = {"Content-Type": "text/html", **opts.get("headers", {})}
            if "retry_after" in opts:
                headers["Retry-After"] = str(opts["retry_after"])
            status = opts.get("status", 503)
            body = self._bytes(opts.get("body", f"<html><body>HTTP {status}</body></html>\n"))
            return Reply(status, body, headers)
        return None  # drop

    def _bytes(self, body: str | bytes) -> bytes:
        if isinstance(body, bytes):
            return body
        if (self.fixtures_dir / body).is_file():
            return load_fixture(body, self.fixtures_dir)
        return body.encode()


class _RequestHandler(BaseHTTPRequestHandler):
    replay: ReplayServer

    def do_GET(self) -> None:  # noqa: N802 (the name http.server looks up)
        split = urlsplit(self.path)
        request = LoggedRequest(
            method="GET",
            path=split.path,
            query=split.query,
            params=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            t=time.monotonic(),
            wall=time.time(),
        )
        fault = self.replay._arrive(request)
        try:
            if fault:
                reply = self.replay._faulty(fault, request, self._client_gone)
            else:
                reply = self.replay._answer(request)
            if reply is None and fault and fault.kind == "hang":
                self.close_connection = True
                return
            if reply is None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing left to answer
        finally:
            self.replay._leave(request)

    def _client_gone(self) -> bool:
        """Whether the client closed its end (a hang ends when the client gives up)."""
        try:
            ready, _, _ = select.select([self.connection], [], [], 0)
            return bool(ready) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def log_message(self, format: str, *args) -> None:
        pass  # the request log is the record; keep test output clean


def main(argv: list[str] | None = None) -> None:
    """Run the replay server until interrupted."""
    parser = argparse.ArgumentParser(description="Replay arXiv from recorded fixtures.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="PATH=FIXTURE",
        help="also serve a fixture, e.g. /rss/cs.AI+cs.LG=rss2026_multi_…xml",
    )
    args = parser.parse_args(argv)
    server = ReplayServer(args.host, args.port)
    for spec in args.route:
        path, _, fixture = spec.rpartition("=")
        server.route(path, fixture)
    server.start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
