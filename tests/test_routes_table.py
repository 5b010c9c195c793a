"""Every case of the URL table, through the server's routes: /api/resolve and /go."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

from papermirror.ids import mirror_path, parse_id
from server import create_app
from tests.conftest import load_url_cases
from tests.stack import stack_settings

CASES = load_url_cases()


@pytest.fixture(scope="module")
def client(redis_server):
    # fetch_wait=0: a fuzzed id that looks real must not make the test wait for a worker.
    app = create_app(stack_settings(redis_server.url, "http://127.0.0.1:9/api", fetch_wait=0))
    return app.test_client()


@pytest.mark.parametrize("case", CASES, ids=[c["input"][:80] for c in CASES])
def test_resolve_api_and_go_follow_the_table(client, case):
    expected = [parse_id(e) for e in case["expect"]]
    resolved = client.get("/api/resolve", query_string={"url": case["input"]})
    go = client.get("/go", query_string={"url": case["input"]})
    if not expected:
        if case.get("listing"):
            assert resolved.status_code == 200
            assert resolved.get_json()["papers"] == []
            assert resolved.get_json()["path"] == case["listing"]
            assert (go.status_code, go.headers["Location"]) == (302, case["listing"])
            return
        assert resolved.status_code == 404 and "error" in resolved.get_json()
        if case["input"].strip() and "://" not in case["input"]:  # free text: a search
            assert go.status_code == 302 and go.headers["Location"].startswith("/search?q=")
        else:
            assert go.status_code == 404
        return
    assert resolved.status_code == 200
    body = resolved.get_json()
    assert body["papers"] == [{"id": r.id, "version": r.version} for r in expected]
    assert body["path"] == mirror_path(expected)
    assert (go.status_code, go.headers["Location"]) == (302, mirror_path(expected))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.sampled_from([c["input"] for c in CASES])))
def test_no_route_errors_or_leaves_the_mirror(client, text):
    for resp in (
        client.get("/go", query_string={"url": text}),
        client.get("/api/resolve", query_string={"url": text}),
        client.get("/" + text.lstrip("/")),
        client.get("/arxiv/" + text.lstrip("/")),
        client.get("/api/papers/" + text.lstrip("/")),
    ):
        assert resp.status_code < 500 or resp.status_code == 503, resp.status_code
        assert b"Traceback" not in resp.data
        if 300 <= resp.status_code < 400:
            location = resp.headers["Location"]
            assert location.startswith("/") and not location.startswith("//"), location


# --- hostile input: look-alikes, hostile hosts, odd methods, bad UTF-8 ---------------

# Letters that case-fold or normalise to ASCII (ſ→s, ı/İ→i, K→k, ﬁ→fi, fullwidth),
# confusables (Cyrillic, Greek), slash and dot look-alikes, invisible and
# direction-changing characters.
CONFUSABLES = (
    "\u017f\u0131\u0130\u212a\u212b\ufb01\u00df\u01c5\uff21\uff53\uff0e\uff0f\u2044\u2215"
    "\u2024\u3002\u0430\u0435\u043e\u0441\u0440\u0445\u03bf\u0391\u200b\u200d\u00a0"
    "\ufeff\u0307\u202e\u2028\U0001d41a\u1e9e"
)
MARKER = "<x-pm onload=1>"  # reflected unescaped, it would be markup in the page
SEEDS = [
    "cs.AI",
    "cs",
    "astro-ph",
    "physics",
    "math.KT",
    "cs.AI,cs.CL",
    "cs.AI+cs.LG-cs.CV",
    "2101.00001v2",
    "hep-th/9901001",
    "https://arxiv.org/abs/2101.00001",
    "arXiv:1706.03762",
    "10.48550/arXiv.1902.02534",
    "2024-01-05",
]


@st.composite
def look_alike(draw) -> str:
    """A seed with some characters swapped for confusables, sometimes with markup around."""
    chars = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(chars)))
        c = draw(st.sampled_from(CONFUSABLES))
        if draw(st.booleans()) and i < len(chars):
            chars[i] = c
        else:
            chars.insert(i, c)
    text = "".join(chars)
    return draw(st.sampled_from([text, text + MARKER, MARKER + text, text.upper()]))


# Overlong encodings of / and ., lone continuation bytes, surrogates, truncated sequences.
BAD_BYTES = [
    "%C0%AF",
    "%E0%80%AF",
    "%C0%AE",
    "%80",
    "%FF%FE",
    "%ED%A0%80",
    "%F4%90%80%80",
    "%E2%82",
]
HOSTILE_HOSTS = [
    "a" * 64 + ".example",
    "a..b",
    "xn--a",
    "xn--",
    ".",
    "-a.example",
    "ex\u017fample.org",
    "[::1",
    "[zz]:80",
    "host:99999",
    "host:port",
    "a" * 300,
    "evil.example/..",
    "<b>x</b>",
]
ODD_METHODS = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "FOO", "HEAD"]


def fuzz_paths(app, text: str) -> list[str]:
    """Every route of the app with ``text`` in each path variable (new routes join too)."""
    quoted = quote(text, safe="/:,+")
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        paths.append(re.sub(r"<[^>]+>", lambda _m: quoted, rule.rule))
    return paths


QUERY_NAMES = ["url", "q", "spec", "cat", "date", "id", "token", "next"]


def with_host(app, path: str, host: str) -> Response:
    """GET ``path`` with a raw ``Host`` header, as a WSGI server passes it.

    werkzeug's test client decodes the host itself (and raises on ``xn--a``),
    so the app is called directly.
    """
    environ = EnvironBuilder(path).get_environ()
    environ["HTTP_HOST"] = host
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    return Response(app_iter, status, headers)


def check_answer(resp, text: str = "") -> None:
    """The invariant: no 500, no off-site redirect, no reflected markup, nosniff."""
    assert resp.status_code < 500 or resp.status_code == 503, (resp.status_code, resp.data[:300])
    assert b"Traceback" not in resp.data
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    if 300 <= resp.status_code < 400:
        location = resp.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    if resp.mimetype == "text/html":
        assert b"<x-pm" not in resp.data.lower()
    if resp.mimetype == "application/json" and resp.status_code >= 400 and len(text) > 3:
        assert text not in resp.get_data(as_text=True), "a JSON error echoes the input"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(look_alike(), st.sampled_from(QUERY_NAMES))
def test_look_alikes_in_every_path_and_query_parameter(client, text, name):
    for path in fuzz_paths(client.application, text):
        check_answer(client.get(path), text)
        check_answer(client.get(path.split("?")[0], query_string={name: text}), text)


@pytest.mark.parametrize(
    "path",
    ["/arxiv/c%C5%BF", "/api/listings/phys%C4%B1cs", "/arxiv?spec=a%C5%BFtro-ph",
     "/arxiv?cat=%E2%84%AAT", "/arxiv/math.%E2%84%AAT", "/api/listings/%C4%B0"],
)  # fmt: skip
def test_issue_look_alike_specs_get_a_clear_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    check_answer(resp)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.sampled_from(HOSTILE_HOSTS), st.text(max_size=80)),
    st.sampled_from(["/", "/arxiv/cs.AI", "/go?url=2101.00001", "/api/resolve?url=x", "/nope"]),
)
def test_hostile_host_headers(client, host, path):
    check_answer(with_host(client.application, path, host))


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..b", "xn--a"])
def test_issue_bad_hosts_get_a_plain_400(client, host):
    resp = with_host(client.application, "/", host)
    assert resp.status_code == 400 and resp.mimetype == "text/plain"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ODD_METHODS), st.one_of(look_alike(), st.sampled_from(SEEDS)))
def test_odd_methods(client, method, text):
    for path in fuzz_paths(client.application, text):
        resp = client.open(path, method=method, data=text.encode())
        check_answer(resp, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from([*BAD_BYTES, "cs.AI", "2101.00001", "/", "%2F", "a"]), max_size=6),
    st.sampled_from(QUERY_NAMES),
)
def test_invalid_and_overlong_utf8(client, parts, name):
    raw = "".join(parts) or BAD_BYTES[0]
    for path in fuzz_paths(client.application, "x"):
        base = path.split("?")[0]
        check_answer(client.get(base.replace("/x", "/" + raw, 1)))
        check_answer(client.get(f"{base}?{name}={raw}"))


def test_overlong_input(client):
    long = "2101.00001," * 5000 + "\u017f" * 5000
    for path in fuzz_paths(client.application, long):
        check_answer(client.get(path), long)
        check_answer(client.get(path.split("?")[0], query_string={"url": long, "spec": long}))
