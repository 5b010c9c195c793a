"""Highlighting matched words in titles and snippets: escaped HTML with our own ``<mark>`` only.

Words are compared by the index's own analysis (stems, no accents), so a
search for ``learning`` marks "learned". Nothing inside TeX math (``$…$``,
``$$…$$``, ``\\(…\\)``, ``\\[…\\]``) is ever marked or cut, so MathJax still
renders the snippet.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from papermirror.arxiv import latex_text
from papermirror.search.analysis import text_tokens
from papermirror.search.query import Query

MATH = r"\$\$.+?\$\$|\$[^$]+?\$|\\\(.+?\\\)|\\\[.+?\\\]"
_MATH = re.compile(MATH, re.S)
SNIPPET_WORDS = 40


def query_terms(query: Query) -> frozenset[str]:
    """The index terms of the query's words and phrases that show up in text."""
    terms = set()
    for c in query.positive:
        if c.field in (None, "title", "abstract", "author"):
            terms.update(text_tokens(c.text))
    return frozenset(terms)


def highlight(text: str, terms: frozenset[str], tex: bool = False) -> str:
    """``text`` as escaped HTML, each matched word outside math wrapped in ``<mark>``.

    ``tex``: as the pages show paper text, TeX text turned into Unicode and each
    formula escaped in ``<span class="math">`` for the browser's renderer.
    """
    if tex:
        return _tex_html(text, terms)
    out, pos = [], 0
    for m in _MATH.finditer(text):
        out.append(_mark(text[pos : m.start()], terms))
        out.append(escape(m.group(), quote=False))
        pos = m.end()
    out.append(_mark(text[pos:], terms))
    return "".join(out)


@lru_cache(maxsize=256)
def _candidates(terms: frozenset[str]) -> tuple[re.Pattern, re.Pattern]:
    """Words that may stem to one of ``terms``: those starting like a term (stems cut or
    change the end of a word only), so most words are never analyzed; and, for text
    beyond ASCII, also every word with such a letter (accents fold before they stem)."""
    heads = sorted({t[: max(1, len(t) - 1)] for t in terms}, key=len, reverse=True)
    like = r"\b(?:" + "|".join(map(re.escape, heads)) + r")\w*"
    return re.compile(like, re.I), re.compile(like + r"|\b\w*?[^\W\x00-\x7f]\w*", re.I)


def _words(text: str, terms: frozenset[str]):
    ascii_only, accented = _candidates(terms)
    return (ascii_only if text.isascii() else accented).finditer(text)


def _tex_html(text: str, terms: frozenset[str]) -> str:
    parts = []
    for is_math, seg in latex_text.split_math(text):
        if is_math:
            mode = "display" if latex_text.is_display(seg) else "inline"
            parts.append(f'<span class="math {mode}">{escape(seg)}</span>')
        else:
            parts.append(_mark(latex_text.text_to_unicode(seg), terms))
    return "".join(parts)


def _mark(text: str, terms: frozenset[str]) -> str:
    if not terms:
        return escape(text, quote=False)
    out, pos = [], 0
    for m in _words(text, terms):
        word = m.group()
        if any(t in terms for t in text_tokens(word)):
            out.append(escape(text[pos : m.start()], quote=False))
            out.append(f"<mark>{escape(word, quote=False)}</mark>")
            pos = m.end()
    out.append(escape(text[pos:], quote=False))
    return "".join(out)


def snippet(text: str, terms: frozenset[str], words: int = SNIPPET_WORDS, tex: bool = False) -> str:
    """About ``words`` words of ``text`` around its first match, highlighted, as HTML
    (``tex``: as :func:`highlight`)."""
    parts = text.split()
    if len(parts) <= words:  # short enough to show whole
        return highlight(" ".join(parts), terms, tex)
    maths = [m.span() for m in _MATH.finditer(text)] if "$" in text or "\\" in text else []
    first = _first_match(text, terms, maths)
    # Start a quarter of the window before the match.
    start = max(0, min(len(text[:first].split()) - words // 4, len(parts) - words))
    end = start + words
    # Never cut a formula: widen the window until no math is left open at either edge.
    while start > 0 and _open_math(" ".join(parts[:start])):
        start -= 1
    while end < len(parts) and _open_math(" ".join(parts[:end])):
        end += 1
    html = highlight(" ".join(parts[start:end]), terms, tex)
    return ("… " if start > 0 else "") + html + (" …" if end < len(parts) else "")


def _open_math(text: str) -> bool:
    """Whether ``text`` ends inside TeX math."""
    if "$" not in text and "\\" not in text:
        return False
    dollars = text.count("$") - text.count("\\$")
    return (
        dollars % 2 == 1
        or text.count("\\(") > text.count("\\)")
        or text.count("\\[") > text.count("\\]")
    )


def _first_match(text: str, terms: frozenset[str], maths: list[tuple[int, int]]) -> int:
    if not terms:
        return 0
    for m in _words(text, terms):
        if any(t in terms for t in text_tokens(m.group())):
            pos = m.start()
            if not any(a <= pos < b for a, b in maths):
                return pos
    return 0
