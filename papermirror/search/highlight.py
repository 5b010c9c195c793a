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


# Words with a letter beyond ASCII: accents fold before they stem, so any may match.
_ACCENTED = re.compile(r"\b\w*?[^\W\x00-\x7f]\w*")
_WORD = re.compile(r"\w+")
_REST = re.compile(r"\w*")


@lru_cache(maxsize=1024)
def _heads(terms: frozenset[str]) -> tuple[str, ...]:
    """What a word that stems to one of ``terms`` starts with: stems cut or change the end
    of a word only, so a term less its last letter."""
    return tuple(sorted({t[: max(1, len(t) - 1)] for t in terms}))


def _words(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of the words of ``text`` that may stem to one of ``terms``, in order: those
    starting like a term, and in text beyond ASCII every word with such a letter. Found
    with ``str.find``, not a regular expression built per query (its compiling cost more
    than all the snippets of a page); the caller analyzes only these words."""
    lower = text.lower()
    if len(lower) != len(text):  # lower case moved the offsets (rare letters): every word
        return [m.span() for m in _WORD.finditer(text)]
    spans: dict[int, int] = {}
    for head in _heads(terms):
        i = lower.find(head)
        while i >= 0:
            end = _REST.match(text, i).end()
            # Only at a word's start (a folded term may begin with a sign: "⑴" is "(1)").
            if end > i and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
                spans[i] = end
            i = lower.find(head, max(end, i + 1))
    if not text.isascii():
        for m in _ACCENTED.finditer(text):
            spans.setdefault(m.start(), m.end())
    return sorted(spans.items())


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
    for start, end in _words(text, terms):
        word = text[start:end]
        if any(t in terms for t in text_tokens(word)):
            out.append(escape(text[pos:start], quote=False))
            out.append(f"<mark>{escape(word, quote=False)}</mark>")
            pos = end
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
    for pos, end in _words(text, terms):
        if any(t in terms for t in text_tokens(text[pos:end])):
            if not any(a <= pos < b for a, b in maths):
                return pos
    return 0
