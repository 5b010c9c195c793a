"""Text analysis shared by the index, the queries and the highlighter.

One analyzer for searched text (words, lower case, accents folded, English
stems), one for names (the same without stems), and the author keys that let
``au:"Hinton, G"`` match "Geoffrey E. Hinton" in either order.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import permutations

import tantivy

TEXT_ANALYZER = "pm_text"
NAME_ANALYZER = "pm_name"  # no stems: "Remy" must not find "Rémi"
MAX_TOKEN = 40  # longer "words" are noise (base64, long formulas)
SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def _builder(stem: bool) -> tantivy.TextAnalyzer:
    b = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    b = b.filter(tantivy.Filter.remove_long(MAX_TOKEN)).filter(tantivy.Filter.lowercase())
    b = b.filter(tantivy.Filter.ascii_fold())
    if stem:
        b = b.filter(tantivy.Filter.stemmer("english"))
    return b.build()


TEXT = _builder(stem=True)
NAMES = _builder(stem=False)


@lru_cache(maxsize=65536)
def text_tokens(text: str) -> tuple[str, ...]:
    """The index's terms for ``text`` (what a query must look up)."""
    return tuple(TEXT.analyze(text))


@lru_cache(maxsize=8192)
def name_tokens(name: str) -> tuple[str, ...]:
    """A name's words, lower case and without accents (``Schrödinger`` → ``schrodinger``)."""
    return tuple(NAMES.analyze(name))


def author_keys(name: str) -> list[str]:
    """Keys ``surname initial`` of one stored author name ("Geoffrey E. Hinton" → "hinton g")."""
    words = list(name_tokens(name))
    while len(words) > 1 and words[-1] in SUFFIXES:
        words.pop()
    if len(words) < 2:
        return []
    surname, forenames = words[-1], words[:-1]
    return [f"{surname} {forenames[0][0]}"]


def query_author_keys(text: str) -> list[str]:
    """Every key a queried name could have, whichever order its parts come in.

    ``Hinton, G`` and ``G Hinton`` give ``hinton g``; ``Geoffrey Hinton`` gives
    ``hinton g`` and ``geoffrey h``.
    """
    words = [w for w in name_tokens(text) if w not in SUFFIXES]
    keys = []
    for surname, other in permutations(words, 2):
        if len(surname) > 1:
            keys.append(f"{surname} {other[0]}")
    return list(dict.fromkeys(keys))
