"""The reading surface's server side: paper text as safe HTML, metadata, housekeeping routes."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from papermirror.records import Author, Paper, Version
from papermirror.store import Store
from server import create_app
from server.filters import announce_label, tex_html
from tests.stack import stack_settings


@pytest.fixture
def client(redis_url):
    app = create_app(stack_settings(redis_url, "http://127.0.0.1:9/api", fetch_wait=0))
    return app.test_client()


@pytest.fixture
def ctx():
    with Flask(__name__).test_request_context():
        yield


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("plain <b>bold</b> & co", "plain &lt;b&gt;bold&lt;/b&gt; &amp; co"),
        (
            "a $x<y$ b",
            'a <span class="math inline">$x&lt;y$</span> b',
        ),
        (
            r"$$\href{javascript:alert(1)}{x}$$",
            r'<span class="math display">$$\href{javascript:alert(1)}{x}$$</span>',
        ),
        (r'Schr\"odinger -- "quoted"', "Schrödinger – &#34;quoted&#34;"),
        (r"costs \$5, not $x$", 'costs $5, not <span class="math inline">$x$</span>'),
    ],
)
def test_tex_html_escapes_everything_from_the_paper(ctx, text, html):
    assert str(tex_html(text)) == html


@pytest.mark.parametrize(
    ("comment", "links"),
    [
        ("Code at https://github.com/a/b.", ["https://github.com/a/b"]),
        ("(see http://x.org/p_(1)) and more", ["http://x.org/p_(1)"]),
        ('https://x.org/"onmouseover="alert(1)', ["https://x.org/"]),
        ("javascript:alert(1) and ftp://x.org", []),
        (r"10 pages, \url{https://a.org/q?x=1&y=2}", ["https://a.org/q?x=1&amp;y=2"]),
    ],
)
def test_urls_in_comments_become_safe_links(ctx, comment, links):
    html = str(tex_html(comment, links=True))
    assert re.findall(r'<a href="([^"]*)" rel="nofollow noopener">', html) == links
    assert "onmouseover=" not in html.replace("onmouseover=&#34;", "")


def test_readers_never_see_internal_labels():
    assert announce_label("replace-cross") == "replaced cross-list"
    assert announce_label("cross") == "cross-list"


def test_paper_page_text_metadata_and_copy(client, redis_client):
    Store(redis_client).upsert(
        Paper(
            id="2411.18592",
            version=2,
            title=r"Holography -- $AdS_5$ and Schr\"odinger <b>",
            authors=(Author("Jos\u00e9 Manuel Penin"), Author(r"Niko Jokela")),
            abstract=r"We find $x<y$ in 50\% of cases.",
            categories=("hep-th",),
            published="2024-11-27T18:00:00Z",
            updated="2024-12-02T10:00:00Z",
            versions=(Version(1, "2024-11-27T18:00:00Z"), Version(2, "2024-12-02T10:00:00Z")),
            comment="12 pages; code at https://github.com/x/y",
            source="api",
        )
    )
    body = client.get("/arxiv/2411.18592").get_data(as_text=True)
    assert "<b>" not in body and "Schrödinger &lt;b&gt;" in body
    assert 'Holography – <span class="math inline">$AdS_5$</span>' in body
    assert '<meta name="citation_author" content="José Manuel Penin">' in body
    assert '<meta name="citation_date" content="2024/11/27">' in body
    assert "50% of cases" in body
    assert '<a href="https://github.com/x/y" rel="nofollow noopener">' in body
    assert "@misc{penin2024holography," in body  # arXiv's key: last name, year, title word
    assert "author={José Manuel Penin and Niko Jokela}" in body
    assert "primaryClass={hep-th}" in body
    assert "arXiv&#39;s API" not in body and "arXiv's API" not in body
    assert "vendor/katex/katex.min.js" in body and "cdn." not in body
    assert "cdn.jsdelivr" not in body


def test_feed_only_paper_has_no_empty_citation_date(client, redis_client):
    Store(redis_client).upsert(
        Paper(id="2411.17708", version=1, title="T", source="rss", versions=(Version(1),))
    )
    body = client.get("/arxiv/2411.17708").get_data(as_text=True)
    assert 'name="citation_date" content=""' not in body
    assert 'content="/"' not in body


def test_pages_without_math_load_no_renderer(client, redis_client):
    Store(redis_client).upsert(Paper(id="2411.17709", version=1, title="No math", source="api"))
    body = client.get("/arxiv/2411.17709").get_data(as_text=True)
    assert 'katex.min.js" defer' not in body and "KaTeX_Main" not in body


def test_housekeeping_routes(client):
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and "Disallow: /api/" in robots.get_data(as_text=True)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/png"
    assert icon.data.startswith(b"\x89PNG")
    status = client.get("/status")
    text = status.get_data(as_text=True)
    assert status.status_code == 200 and status.mimetype == "text/html"
    assert "Database: answering" in text and "Fetchers: none running" in text
    home = client.get("/").get_data(as_text=True)
    assert 'href="/status"' in home and 'href="/healthz"' not in home
    assert 'class="skip" href="#main"' in home and 'id="main"' in home
    assert 'name="color-scheme"' in home and "theme.js" in home
    # No checkbox inside a <summary>; no operator command for readers.
    for summary in re.findall(r"<summary>.*?</summary>", home, re.S):
        assert "<input" not in summary
    assert "papermirror fetch" not in home
    labels = re.findall(r'role="search" aria-label="([^"]+)"', home)
    assert len(labels) == len(set(labels))
