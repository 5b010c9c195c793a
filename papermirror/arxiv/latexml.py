"""arXiv's HTML full text (LaTeXML, as on arxiv.org/html and ar5iv) to plain text.

The text keeps the paper's sections as Markdown-style headings, every formula
as its LaTeX source (the ``alttext`` LaTeXML puts on each ``<math>``), figure
and table captions, and drops what a reader of the paper's argument does not
need: the bibliography, the table of contents, the site's header, footer and
navigation, scripts and styles.

It is a pure function of the page's text, built on the standard library's
``html.parser``: one streaming pass, no tree. Measured on the 699 KB recorded
page (bench/faq.py), the conversion costs little more than the parse alone.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements dropped with everything inside them.
_SKIP_TAGS = frozenset(
    {"script", "style", "nav", "header", "footer", "button", "noscript", "svg", "head", "template"}
)
# LaTeXML classes (on any element) dropped with everything inside them.
_SKIP_CLASSES = frozenset(
    {
        "ltx_bibliography",
        "ltx_TOC",
        "ltx_page_footer",
        "ltx_page_header",
        "ltx_page_navbar",
        "ltx_role_footnote_mark",
        "ltx_authors",
        "ltx_dates",
        "ltx_note_mark",
        "ar5iv-footer",
        "ltx_pagination",
    }
)
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "figure",
        "figcaption",
        "table",
        "tr",
        "li",
        "ul",
        "ol",
        "blockquote",
        "br",
        "dd",
        "dt",
    }
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_tag: str | None = None  # root tag of the subtree being skipped
        self.skip_depth = 0
        self.title: str | None = None
        self._in_title = False
        self._title_parts: list[str] = []
        self._heading = 0  # nesting depth of headings: their text stays on one line

    def handle_starttag(self, tag: str, attrs) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag in _SKIP_TAGS or any(c in _SKIP_CLASSES for c in classes):
            self._skip(tag)
            return
        if tag == "math":
            tex = (a.get("alttext") or "").strip()
            if tex:
                if a.get("display") == "block":
                    self.out.append(f"\n$${tex}$$\n")
                else:
                    self.out.append(f" ${tex}$ ")
            self._skip(tag)
            return
        if tag in _HEADINGS:
            self.out.append("\n\n" + "#" * _HEADINGS[tag] + " ")
            self._heading += 1
            if "ltx_title_document" in classes:
                self._in_title = True
        elif self._heading:
            if tag == "br":
                self.out.append(" ")
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag == "img":
            alt = (a.get("alt") or "").strip()
            if alt:
                self.out.append(f" [{alt}] ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        # <br/>, <img/>, <math .../> (empty): nothing inside to skip.
        if self.skip_tag is not None:
            return
        self.handle_starttag(tag, attrs)
        if self.skip_tag == tag and self.skip_depth == 1:
            self.skip_tag, self.skip_depth = None, 0

    def handle_endtag(self, tag: str) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag in _HEADINGS:
            self.out.append("\n\n")
            self._heading = max(0, self._heading - 1)
            if self._in_title:
                self._in_title = False
                self.title = " ".join("".join(self._title_parts).split())
        elif tag in _BLOCKS and not self._heading:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_tag is None:
            self.out.append(data.replace("\n", " ") if self._heading else data)
            if self._in_title:
                self._title_parts.append(data)

    def _skip(self, tag: str) -> None:
        self.skip_tag, self.skip_depth = tag, 1


def html_to_text(html: str) -> str:
    """Plain text of a LaTeXML page: headings, paragraphs, ``$LaTeX$`` math, no bibliography."""
    parser = _Converter()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


def cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a paragraph or line end when one is near."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for sep in ("\n\n", "\n", ". "):
        at = head.rfind(sep)
        if at >= limit * 0.8:
            return head[: at + len(sep)].rstrip()
    return head
