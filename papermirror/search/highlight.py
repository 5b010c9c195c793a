"""Highlighting matched words in titles and snippets: escaped HTML with our own ``<mark>`` only.

Words are compared by the index's own analysis (stems, no accents), so a
search for ``learning`` marks "learned". Nothing inside TeX math (``$…$``,
``$$…$$``, ``\\(…\\)``, ``\\[…\\]``) is ever marked or cut, so MathJax still
renders the snippet.
"""

from __future__ import annotations

import re
from html import escape

from papermirror.search.analysis import text_tokens
from papermirror.search.query import Query

MATH = r"\$\$.+?\$\$|\$[^$]+?\$|\\\(.+?\\\)|\\\[.+?\\\]"
_MATH = re.compile(MATH, re.S)
_WORD = re.compile(r"\w+")
# A snippet's unit: a run of non-space characters and whole math spans, with its trailing space.
_ATOM = re.compile(rf"(?:{MATH}|(?!\\[(\[])[^\s$]|\\(?![(\[]))+\s*|\S+\s*", re.S)
SNIPPET_WORDS = 40


def query_terms(query: Query) -> frozenset[str]:
    """The index terms of the query's words and phrases that show up in text."""
    terms = set()
    for c in query.positive:
        if c.field in (None, "title", "abstract", "author"):
            terms.update(text_tokens(c.text))
    return frozenset(terms)


def highlight(text: str, terms: frozenset[str]) -> str:
    """``text`` as escaped HTML, each matched word outside math wrapped in ``<mark>``."""
    out, pos = [], 0
    for m in _MATH.finditer(text):
        out.append(_mark(text[pos : m.start()], terms))
        out.append(escape(m.group(), quote=False))
        pos = m.end()
    out.append(_mark(text[pos:], terms))
    return "".join(out)


def _mark(text: str, terms: frozenset[str]) -> str:
    if not terms:
        return escape(text, quote=False)
    out, pos = [], 0
    for m in _WORD.finditer(text):
        word = m.group()
        if any(t in terms for t in text_tokens(word)):
            out.append(escape(text[pos : m.start()], quote=False))
            out.append(f"<mark>{escape(word, quote=False)}</mark>")
            pos = m.end()
    out.append(escape(text[pos:], quote=False))
    return "".join(out)


def snippet(text: str, terms: frozenset[str], words: int = SNIPPET_WORDS) -> str:
    """About ``words`` words of ``text`` around its first match, highlighted, as HTML."""
    atoms = [m.group() for m in _ATOM.finditer(text)]
    if not atoms:
        return ""
    first = 0
    for i, atom in enumerate(atoms):
        plain = _MATH.sub(" ", atom)
        if any(t in terms for w in _WORD.findall(plain) for t in text_tokens(w)):
            first = i
            break
    start = max(0, min(first - words // 4, len(atoms) - words))
    chosen = "".join(atoms[start : start + words]).strip()
    html = highlight(chosen, terms)
    return ("… " if start > 0 else "") + html + (" …" if start + words < len(atoms) else "")
