"""arXiv's TeX-flavoured metadata text as readers should see it: Unicode outside math.

Titles, authors, abstracts and comments arrive from arXiv as typed by authors:
``Schr\\"odinger``, ``pr\\'esidents``, ``3--5``, ``50\\%``, with math between
``$…$``. :func:`split_math` cuts a string into text and math segments;
:func:`to_unicode` turns the TeX accents, escapes, dashes and quotes of the text
segments into Unicode with pylatexenc and leaves every math segment byte for byte
as it was, so a math renderer in the browser still finds it. Pure functions: no
Flask, no Redis.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

# Text without any of these characters has nothing for pylatexenc to do.
_TEX_HINT = re.compile(r"[\\{}~`]|--|''")
# Characters TeX treats as specials but authors mean literally (``R&D``, ``50%``, ``#1``).
_BARE_SPECIAL = re.compile(r"(?<!\\)([%&#])")
_SPACES = re.compile(r"\s+")
# What needs a TeX parser: a macro other than an escaped special, or a group.
_NEEDS_PARSER = re.compile(r"\\(?![%&#_$ ])|[{}]")
_SIMPLE = [("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d")]
# A tilde after a space or at the start means "about" (``~10x faster``), not TeX's tie.
_APPROX = re.compile(r"(?<![^\s(\[])~")
# Math delimiters in the order they must be tried: ``$$`` before ``$``.
_OPENERS = (("$$", "$$", True), ("\\[", "\\]", True), ("$", "$", False), ("\\(", "\\)", False))
_MATH_START = re.compile(r"\$\$|\$|\\\[|\\\(")


def _converter() -> LatexNodes2Text:
    db = get_default_latex_context_db()
    db.add_context_category(
        "papermirror",
        prepend=True,
        macros=[
            MacroTextSpec("url", "%(1)s"),
            MacroTextSpec("href", "%(2)s (%(1)s)"),
            MacroTextSpec("LaTeX", "LaTeX"),
            MacroTextSpec("TeX", "TeX"),
            MacroTextSpec("cite", "[%(2)s]"),
            MacroTextSpec("ref", "%(1)s"),
        ],
    )
    # A macro the authors defined for themselves (``\\ourmethod``) stays as written, as
    # arXiv shows it, rather than vanishing from the sentence.
    db.set_unknown_macro_spec(MacroTextSpec("", simplify_repl=_unknown_macro))
    return LatexNodes2Text(latex_context=db, math_mode="verbatim", strict_latex_spaces=True)


def _unknown_macro(node, **_) -> str:
    return "\\" + node.macroname + (node.macro_post_space or "")


_CONVERTER = _converter()
# Its tolerant parser logs every stray brace at INFO: authors' typos are not the operator's news.
logging.getLogger("pylatexenc").setLevel(logging.WARNING)


def split_math(text: str) -> list[tuple[bool, str]]:
    """Cut ``text`` into ``(is_math, segment)`` pairs that join back to ``text`` exactly.

    Math segments keep their delimiters (``$x$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``).
    An escaped dollar (``\\$``) is text; an opener without its closer is text too.
    """
    out: list[tuple[bool, str]] = []
    pos = start = 0
    while (m := _MATH_START.search(text, pos)) is not None:
        i = m.start()
        if _escaped(text, i):
            pos = i + 1
            continue
        opener = m.group()
        close = next(c for o, c, _ in _OPENERS if o == opener)
        j = _find_closer(text, close, i + len(opener))
        if j < 0 or j == i + len(opener):  # unclosed, or "$$" used as an empty "$…$"
            pos = i + len(opener)
            continue
        if start < i:
            out.append((False, text[start:i]))
        end = j + len(close)
        out.append((True, text[i:end]))
        pos = start = end
    if start < len(text):
        out.append((False, text[start:]))
    return out


def _escaped(text: str, i: int) -> bool:
    backslashes = 0
    while i - backslashes - 1 >= 0 and text[i - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _find_closer(text: str, close: str, start: int) -> int:
    j = text.find(close, start)
    while j >= 0 and close.startswith("$") and _escaped(text, j):
        j = text.find(close, j + 1)
    return j


def is_display(math: str) -> bool:
    """Whether a math segment is display math (``$$…$$`` or ``\\[…\\]``)."""
    return math.startswith(("$$", "\\["))


def strip_delimiters(math: str) -> str:
    """The TeX inside a math segment's delimiters."""
    for opener, closer, _ in _OPENERS:
        if math.startswith(opener) and math.endswith(closer) and len(math) >= 2 * len(opener):
            return math[len(opener) : len(math) - len(closer)]
    return math


@lru_cache(maxsize=65536)
def text_to_unicode(text: str) -> str:
    """One text segment (no math) with TeX accents, escapes, dashes and quotes as Unicode.

    Runs of whitespace become one space; a leading or trailing space is kept, so
    segments rejoin around math as they were written.
    """
    if not _TEX_HINT.search(text):
        return _SPACES.sub(" ", text)
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    if not _NEEDS_PARSER.search(text):
        return lead + _simple(text.strip()) + trail if text.strip() else lead or trail
    # The parser costs about 1 µs a character: give it only the words that hold TeX
    # (a macro, or a group until its braces balance), the simple path the rest.
    words = text.split()
    out, i = [], 0
    while i < len(words):
        word = words[i]
        if not _NEEDS_PARSER.search(word):
            out.append(_simple(word))
            i += 1
            continue
        j, depth = i, word.count("{") - word.count("}")
        while depth > 0 and j + 1 < len(words):
            j += 1
            depth += words[j].count("{") - words[j].count("}")
        out.append(_parse(" ".join(words[i : j + 1])))
        i = j + 1
    converted = " ".join(w for w in out if w)
    return f"{lead}{converted}{trail}" if converted else (lead or trail)


def _simple(text: str) -> str:
    # Dashes, quotes, ties and escaped specials: plain replacements (most abstracts).
    for tex, char in _SIMPLE:
        text = text.replace(tex, char)
    text = re.sub(r"\\([%&#_$ ])", r"\1", _APPROX.sub("\x00", text))
    return _SPACES.sub(" ", text.replace("~", " ").replace("\x00", "~"))


def _parse(text: str) -> str:
    body = _APPROX.sub(r"\\textasciitilde{}", _BARE_SPECIAL.sub(r"\\\1", text))
    try:
        converted = _CONVERTER.latex_to_text(body)
    except Exception:  # pylatexenc is tolerant, but a reader's page must never fail on it
        return _SPACES.sub(" ", text)
    return _SPACES.sub(" ", converted.replace("\xa0", " ")).strip()


def to_unicode(text: str | None) -> str:
    """The whole string with its text converted (:func:`text_to_unicode`) and math intact."""
    if not text:
        return ""
    if "$" not in text and "\\(" not in text and "\\[" not in text:
        return text_to_unicode(text)
    return "".join(seg if math else text_to_unicode(seg) for math, seg in split_math(text))


def author_name(name: str) -> str:
    """An author's name as readers see it: ``Jos\\'e Manuel Penin`` → ``José Manuel Penin``."""
    return " ".join(to_unicode(name).split())
