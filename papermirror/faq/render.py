"""A model's Markdown answer to HTML that is safe to put in a page.

The model's output is never trusted as HTML. markdown-it-py (CommonMark, with
raw HTML turned off, so ``<script>`` comes out as text) renders it; the
dollarmath plugin keeps ``$…$`` and ``$$…$$`` away from Markdown's emphasis
rules and hands them to MathJax as ``\\(…\\)`` and ``\\[…\\]``; then nh3 (the
Rust ammonia sanitiser) keeps only an allow-list of tags, attributes and URL
schemes, so a ``javascript:`` link or an ``onerror`` attribute cannot survive
even a renderer bug. A half-streamed answer (an unclosed ``**`` or code fence)
renders as well as it can, and the next chunk re-renders it whole.
"""

from __future__ import annotations

import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "h6", "a", "span", "div", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
_CLASSES = {"span": {"math", "inline"}, "div": {"math", "display"}}


def _math(content: str, options: dict) -> str:
    if options.get("display_mode"):
        return f"\\[{html.escape(content)}\\]"
    return f"\\({html.escape(content)}\\)"


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    # Headings inside an answer sit under the question's own heading.
    md.use(dollarmath_plugin, allow_space=True, double_inline=True, renderer=_math)
    return md


def to_html(markdown: str) -> str:
    """Sanitised HTML of a Markdown answer (math left for MathJax)."""
    # The site's math.js reads display math as class "math display".
    rendered = (
        _markdown()
        .render(markdown or "")
        .replace('<div class="math block">', '<div class="math display">')
    )
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def to_text(markdown: str) -> str:
    """A one-line plain-text form (the TL;DR): no markup at all, escaped by the template."""
    return " ".join((markdown or "").replace("**", "").replace("__", "").split())
