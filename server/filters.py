"""Jinja filters and globals for the templates: dates, links to arXiv, and paper text."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask, g
from markupsafe import Markup, escape

from papermirror.arxiv import latex_text
from papermirror.arxiv.bibtex import bibtex
from papermirror.categories import category_name

ARXIV = "https://arxiv.org"


def nice_date(iso: str | None) -> str:
    """'1999-01-04T12:00:00Z' → '4 Jan 1999'."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%-d %b %Y")
    except ValueError:
        return iso[:10]


def arxiv_link(kind: str, paper_id: str, version: int | None = None) -> str:
    """arXiv's own URL of a paper: kind is abs, pdf or html."""
    return f"{ARXIV}/{kind}/{paper_id}{f'v{version}' if version else ''}"


# arXiv renders HTML for papers submitted from December 2023 on; older papers
# have their HTML rendering on ar5iv (which serves the latest version only).
ARXIV_HTML_SINCE = "2023-12"


def html_link(paper, version: int | None = None) -> str:
    """Where a paper's HTML rendering lives: arXiv's own, or ar5iv for older papers."""
    if paper.published and paper.published[:7] < ARXIV_HTML_SINCE:
        return f"https://ar5iv.labs.arxiv.org/html/{paper.id}"
    return arxiv_link("html", paper.id, version)


def license_name(url: str | None) -> str:
    """A short name for a licence URL ('CC BY 4.0', 'arXiv non-exclusive')."""
    if not url:
        return ""
    u = url.rstrip("/").lower()
    if "nonexclusive-distrib" in u:
        return "arXiv non-exclusive distribution"
    if "publicdomain/zero" in u:
        return "CC0 1.0"
    if "creativecommons.org/licenses/" in u:
        parts = u.split("creativecommons.org/licenses/")[1].split("/")
        return f"CC {parts[0].upper()} {parts[1] if len(parts) > 1 else ''}".strip()
    return url


def web_url(value: str | None) -> bool:
    """Whether a stored value may become a link: http(s) only, never javascript: and the like."""
    return bool(value) and value.lower().startswith(("https://", "http://"))


_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str | None) -> str:
    """Text without the control characters XML 1.0 forbids (escaping cannot express them)."""
    return _XML_FORBIDDEN.sub("", value or "")


def tex_text(value: str | None) -> str:
    """Paper text as plain Unicode (accents, dashes, escapes), math left as TeX: for attributes."""
    return latex_text.to_unicode(value)


def author_name(value: str | None) -> str:
    """An author's name with TeX accents as Unicode and its spaces kept."""
    return latex_text.author_name(value or "")


_URL = re.compile(r"https?://[^\s<>\"'{}|\\^`]+", re.I)
_URL_TRAILING = ".,;:!?)]'\""


def _linkify(text: str) -> Markup:
    out, pos = [], 0
    for m in _URL.finditer(text):
        url = m.group().rstrip(_URL_TRAILING)
        # A closing parenthesis belongs to the URL when it opened one inside it.
        while m.group()[len(url) : len(url) + 1] == ")" and url.count("(") > url.count(")"):
            url += ")"
        out.append(escape(text[pos : m.start()]))
        out.append(Markup('<a href="{0}" rel="nofollow noopener">{0}</a>').format(url))
        pos = m.start() + len(url)
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def tex_html(value: str | None, links: bool = False) -> Markup:
    """Paper text as safe HTML: text converted to Unicode and escaped, each math segment
    escaped inside ``<span class="math">`` for the browser's renderer; ``links`` turns
    http(s) URLs in the text into links (comments). Nothing from the paper becomes markup.
    """
    if not value:
        return Markup("")
    parts = []
    for is_math, seg in latex_text.split_math(value):
        if is_math:
            g.math_used = True
            mode = "display" if latex_text.is_display(seg) else "inline"
            parts.append(Markup('<span class="math {0}">{1}</span>').format(mode, seg))
        else:
            text = latex_text.text_to_unicode(seg)
            parts.append(_linkify(text) if links and "://" in text else escape(text))
    return Markup("").join(parts)


def math_used() -> bool:
    """Whether the page rendered so far holds math (so it loads the math renderer)."""
    return bool(g.get("math_used"))


ANNOUNCE_LABELS = {
    "new": "new",
    "cross": "cross-list",
    "replace": "replaced",
    "replace-cross": "replaced cross-list",
}


def announce_label(kind: str | None) -> str:
    """Readers' words for arXiv's announce types (``replace-cross`` → 'replaced cross-list')."""
    return ANNOUNCE_LABELS.get(kind or "", (kind or "").replace("-", " "))


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.jinja_env.filters["nice_date"] = nice_date
    app.jinja_env.filters["license_name"] = license_name
    app.jinja_env.filters["xml_text"] = xml_text
    app.jinja_env.tests["web_url"] = web_url
    app.jinja_env.globals["arxiv_link"] = arxiv_link
    app.jinja_env.globals["html_link"] = html_link
    settings = app.config["SETTINGS"]
    app.jinja_env.filters["tex_text"] = tex_text
    app.jinja_env.filters["tex_html"] = tex_html
    app.jinja_env.filters["author_name"] = author_name
    app.jinja_env.filters["announce_label"] = announce_label
    app.jinja_env.globals["math_used"] = math_used
    app.jinja_env.globals["bibtex"] = bibtex
    app.jinja_env.globals["category_name"] = category_name
    app.jinja_env.globals["math_renderer"] = settings.math_renderer
    app.jinja_env.globals["mathjax_url"] = settings.mathjax_url
