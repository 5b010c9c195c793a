"""Text analysis shared by the index, the queries and the highlighter.

One analyzer for searched text (words, lower case, accents folded, English
stems), one for names (the same without stems), and the author keys that let
``au:"Hinton, G"`` match "Geoffrey E. Hinton" in either order.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations, pairwise

import tantivy

TEXT_ANALYZER = "pm_text"
NAME_ANALYZER = "pm_name"  # no stems: "Remy" must not find "Rémi"
MAX_TOKEN = 40  # longer "words" are noise (base64, long formulas)
SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
MAX_INITIALS = 4  # forenames beyond these add no keys (their pairs grow as the square)


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
    """Keys of one stored author name: its surname with each forename initial, and with
    each ordered pair of them ("Geoffrey E. Hinton" → "hinton g", "hinton e", "hinton g e").

    So ``au:"Hinton, G"``, ``au:"Hinton, E"`` and ``au:"Hinton, G E"`` find him, and
    ``au:"Hinton, E G"`` does not: initials in the order the name has them, as arXiv's own
    ``au:`` reads them. The surname is the last word (a suffix such as "Jr." aside).
    """
    words = name_tokens(name)
    # The common shapes first ("Ada Lovelace", "Geoffrey E. Hinton"): the indexer makes
    # keys for every author of every paper, and the general case costs ~4x more.
    if len(words) == 2 and words[1] not in SUFFIXES:
        return [f"{words[1]} {words[0][0]}"]
    if len(words) == 3 and words[2] not in SUFFIXES:
        surname, a, b = words[2], words[0][0], words[1][0]
        if a == b:
            return [f"{surname} {a}"]
        return [f"{surname} {a}", f"{surname} {b}", f"{surname} {a} {b}"]
    return keys_of_words(list(words))


def keys_of_words(words: list[str]) -> list[str]:
    """:func:`author_keys` of a name's words, any shape (the tests hold the shortcuts to it)."""
    while len(words) > 1 and words[-1] in SUFFIXES:
        words.pop()
    if len(words) < 2:
        return []
    surname = words[-1]
    initials = list(dict.fromkeys(w[0] for w in words[:-1]))[:MAX_INITIALS]
    keys = [f"{surname} {i}" for i in initials]
    keys += [f"{surname} {a} {b}" for a, b in combinations(initials, 2)]
    return keys


def query_author_keys(text: str) -> list[tuple[str, ...]]:
    """What a queried name requires, as alternatives: any one of them, all its keys.

    Any full word may be the surname (names come in either order, with or without a
    comma); the others give the initials, in order: the single letters when there are
    any ("Del Maestro, A" → "maestro a"; "Hinton, G E" → "hinton g e"), else the
    forenames' first letters ("Geoffrey Hinton" → "hinton g", or "geoffrey h"). Three
    initials or more need each consecutive pair.
    """
    words = [w for w in name_tokens(text) if w not in SUFFIXES]
    out = []
    for n, surname in enumerate(words):
        if len(surname) < 2:
            continue
        others = words[:n] + words[n + 1 :]
        single = [w for w in others if len(w) == 1]
        initials = [w[0] for w in (single or others)]
        if not initials:
            continue
        if len(initials) == 1:
            keys = (f"{surname} {initials[0]}",)
        else:
            keys = tuple(f"{surname} {a} {b}" for a, b in pairwise(initials))
        out.append(keys)
    return list(dict.fromkeys(out))


def author_matches(stored: str, queried: str) -> bool:
    """Whether the index's keys let ``queried`` (initials and all) find the author ``stored``."""
    have = set(author_keys(stored))
    return any(set(keys) <= have for keys in query_author_keys(queried))
