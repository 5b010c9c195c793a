"""arXiv ids: the grammar, :class:`PaperRef`, and the resolver from any text or URL to papers.

Pure: no I/O and no clock. The URL forms are data in :mod:`papermirror.urlforms`.

Decisions (each has cases in tests/data/url_cases.toml):

- Canonical ids are lower case and drop the subject class: ``math.GT/0309136`` is
  ``math/0309136``.
- New-style ids run from 0704 to 9912, month 01-12. arXiv's docs call ``9912.12345`` a valid
  future id, and a clock-free parser cannot tell the future from the past.
  ``YYMM.NNNN`` up to 1412, ``YYMM.NNNNN`` from 1501; number 0 is never an id.
- Before 1501 a zero-padded 5-digit number is the 4-digit id (``1406.02661`` is ``1406.2661``,
  as on Cool Papers). Any other 5-digit number there is invalid, as arXiv's API treats it,
  except the ids arXiv has actually served (``urlforms.ODD_IDS``: ``0811.36489``), kept verbatim.
- Old-style ids run from 9108 to 0703 over the archives in ``urlforms.ARCHIVES``.
- Versions are ``v1`` and up. A bare ``v`` or ``v0`` after an id makes it no id at all, as on
  arXiv (``/pdf/physics/9707012v`` is an invalid case in arxiv-browse's tests).
- A URL on a known host names a paper only through a row of ``urlforms.ROWS``: arXiv's
  listings, searches, feeds and ``/prevnext`` (a neighbour) name none. Side pages
  (``/tb/``, ``/show-email/``, ``/bibtex/``, …) name exactly one paper, so they lead to it.
- A bare id counts as a word of text (or after ``(``, ``,``, ``:`` …), never inside an unknown
  URL; after ``arXiv:``, ``oai:arXiv.org:`` or ``10.48550/arXiv.`` it counts anywhere.
- Text is read token by token (split on whitespace); each token is percent-decoded up to three
  times, and URLs nested in it (``?url=https://…``) are followed up to ``MAX_NESTED`` deep.
- Only the first ``MAX_INPUT`` characters of a text are read, so no input is slow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from papermirror import urlforms

MAX_INPUT = 10_000
# Real links nest at most three deep (arXiv /ct -> reddit -> abs); more is junk.
MAX_NESTED = 4


@dataclass(frozen=True, slots=True)
class PaperRef:
    """One paper, or one version of it: ``id`` is canonical, ``version`` None means latest."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


# --- the id grammar -------------------------------------------------------------------------

# Longest first, so "math-ph" is tried before "math".
_ARCHIVE = "|".join(sorted(urlforms.ARCHIVES, key=len, reverse=True))
_VER = r"(?:v(?P<v>[1-9][0-9]{0,5}))?"
# The id ends here: no letter, digit or hyphen follows, nor a dot and a word (but a file suffix).
_END = r"(?![\w-]|\.(?!(?:" + "|".join(urlforms.SUFFIXES) + r")\b)\w)"
_NEW = r"(?P<yymm>[0-9]{4})\.(?P<num>[0-9]{4,5})"
_OLD = rf"(?P<arch>{_ARCHIVE})(?:\.[a-z-]{{2,16}})?/(?P<old>[0-9]{{7}})"
_IDV = rf"(?:{_NEW}|{_OLD}){_VER}{_END}"
_IDV_PLAIN = re.sub(r"\(\?P<\w+>", "(?:", _IDV)
_PLACEHOLDERS = {
    "{idv}": _IDV,
    "{new}": _NEW + _END,
    "{list}": rf"(?P<list>{_IDV_PLAIN}(?:,{_IDV_PLAIN})*)",
    "{archive}": _ARCHIVE,
    "{ver}": _VER,
    "{end}": _END,
}
_FLAGS = re.ASCII
_ID = re.compile(_IDV, _FLAGS)


def _ref(
    yymm: str | None, num: str | None, arch: str | None, old: str | None, v: str | None
) -> PaperRef | None:
    """The canonical ref for a grammar match, or None when its numbers are out of range."""
    if yymm is not None:
        ym = int(yymm)
        if ym < 704 or not 0 < ym % 100 < 13:
            return None
        if len(num) == 5:
            if ym < 1501:
                if num[0] != "0":
                    odd = f"{yymm}.{num}"
                    return PaperRef(odd, int(v) if v else None) if odd in urlforms.ODD_IDS else None
                num = num[1:]
        elif ym >= 1501:
            return None
        if num == "0000" or num == "00000":
            return None
        return PaperRef(f"{yymm}.{num}", int(v) if v else None)
    if old is None:
        return None
    ym = int(old[:4])
    # The old scheme ran from August 1991 to March 2007.
    if not (0 < ym % 100 < 13 and (ym >= 9108 or ym <= 703)) or old.endswith("000"):
        return None
    return PaperRef(f"{arch}/{old}", int(v) if v else None)


def parse_id(text: str) -> PaperRef | None:
    """Exactly one bare id, optionally versioned (``2104.12255v2``, ``math.GT/0309136v1``).

    Surrounding whitespace is ignored; anything else around the id gives None.
    """
    if len(text) > 64:
        return None
    m = _ID.fullmatch(text.strip().lower())
    return _ref(*m.group("yymm", "num", "arch", "old", "v")) if m else None


def mirror_path(refs: Sequence[PaperRef]) -> str:
    """The mirror's path for one or more papers: ``/arxiv/2104.12255,hep-th/9901001v2``."""
    if not refs:
        raise ValueError("mirror_path needs at least one PaperRef")
    return "/arxiv/" + ",".join(map(str, refs))


# --- the resolver ---------------------------------------------------------------------------


_GROUP = re.compile(r"\(\?P<(\w+)>")
_ID_GROUPS = ("yymm", "num", "arch", "old", "v")
# A host's rows and, per row, the names its groups got when the rows were joined into one regex.
_Rows = tuple[re.Pattern, dict[str, tuple[str, ...]]]


def _join_rows(patterns: tuple[str, ...]) -> _Rows:
    """One regex trying the rows in order, so a URL costs one match instead of one per row."""
    alternatives, names = [], {}
    for i, pattern in enumerate(patterns):
        for placeholder, regex in _PLACEHOLDERS.items():
            pattern = pattern.replace(placeholder, regex)
        # Group names must be unique across the alternation: suffix them with the row number.
        renamed = _GROUP.sub(rf"(?P<\g<1>_{i}>", pattern)
        alternatives.append(f"(?P<r{i}>{renamed})")
        present = _GROUP.findall(pattern)
        ordered = [n for n in (*_ID_GROUPS, "list") if n in present]
        names[f"r{i}"] = tuple(f"{name}_{i}" for name in ordered)
    return re.compile("|".join(alternatives), _FLAGS), names


def _compile_rows() -> tuple[dict[str, _Rows], list[tuple[str, _Rows]]]:
    patterns: dict[str, tuple[str, ...]] = {}
    for hosts, pattern in urlforms.ROWS:
        for host in hosts:
            patterns[host] = (*patterns.get(host, ()), pattern)
    joined: dict[tuple[str, ...], _Rows] = {}
    by_host = {h: joined.setdefault(p, _join_rows(p)) for h, p in patterns.items()}
    prefixed = [(h[:-1], rows) for h, rows in by_host.items() if h.endswith("*")]
    return by_host, prefixed


_BY_HOST, _BY_HOST_PREFIX = _compile_rows()
# The host of a URL without user info, "www." or port; the match ends where the path begins.
_HOST = re.compile(r"(?:[^/?#@]*@)?(?:www\.)?([^/?#:@]*)[^/?#]*")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,15}", _FLAGS)
_TEXT = re.compile(
    rf"(?:(?<![\w.-])(?:{'|'.join(urlforms.TEXT_PREFIXES)})"
    rf"|(?<![^\s{re.escape(urlforms.BARE_AFTER)}])){_IDV}",
    _FLAGS,
)
# The commonest whole inputs, answered without the general path (and always as it would):
# an id alone or after "arXiv:", or an arxiv.org URL of a paper with no nested URL in its query.
_FAST = re.compile(
    r"(?:(?:(?:https?:)?//)?(?:(?:www|export|browse)\.)?arxiv\.org/(?:abs|pdf|html|format|src)/"
    rf"|arxiv:)?{_IDV}(?:\.pdf)?/?(?:[?#][\w.=&+#?-]*)?",
    _FLAGS,
)
_OPENERS = urlforms.BARE_AFTER
_DIGIT = re.compile("[0-9]")


def _rows_for(host: str) -> _Rows | None:
    """The rows for a host, trying exact names, then ``*.suffix``, then ``prefix.*``."""
    rows = _BY_HOST.get(host)
    if rows is not None:
        return rows
    i = host.find(".")
    while i >= 0:
        rows = _BY_HOST.get("*" + host[i:])
        if rows is not None:
            return rows
        i = host.find(".", i + 1)
    for prefix, rows in _BY_HOST_PREFIX:
        if host.startswith(prefix):
            return rows
    return None


def _url(tok: str, pos: int, out: list) -> bool:
    """Match the URL whose host starts at ``tok[pos]``; True when the host is a known one."""
    h = _HOST.match(tok, pos)
    host = h[1]
    if host[-1:] == ".":
        host = host[:-1]
    rows = _rows_for(host)
    if rows is None:
        return False
    m = rows[0].match(tok, h.end())
    if m:
        names = rows[1][m.lastgroup]
        if len(names) == 5:
            out.append((pos, _ref(*m.group(*names))))
        elif len(names) == 1:  # {list}, the only row form with a single group
            out.extend((pos, parse_id(part)) for part in m[names[0]].split(","))
        else:
            found = dict(zip((n.rpartition("_")[0] for n in names), m.group(*names), strict=True))
            out.append((pos, _ref(*map(found.get, _ID_GROUPS))))
    return True


def _token(tok: str, out: list) -> None:
    """Append ``(position, ref or None)`` for every paper named in one whitespace-free token."""
    if "/" not in tok:
        # No path, so no URL: only ids in text, and every id has a digit.
        if _DIGIT.search(tok):
            for m in _TEXT.finditer(tok):
                out.append((m.start(), _ref(*m.group("yymm", "num", "arch", "old", "v"))))
        return
    start = len(tok) - len(tok.lstrip(_OPENERS)) if tok[0] in _OPENERS else 0
    sep = tok.find("://", start)
    if sep >= 0 and _SCHEME.fullmatch(tok, start, sep):
        known = _url(tok, sep + 3, out)
        sep = tok.find("://", sep + 3)
    elif tok.startswith("//", start):
        known = _url(tok, start + 2, out)
    else:
        # A bare path is arXiv's or the mirror's (host ""); else a URL without scheme, or text.
        known = _url(tok, start, out)
    nested = 0
    while sep >= 0 and nested < MAX_NESTED:
        _url(tok, sep + 3, out)
        sep = tok.find("://", sep + 3)
        nested += 1
    if not known:
        for m in _TEXT.finditer(tok):
            out.append((m.start(), _ref(*m.group("yymm", "num", "arch", "old", "v"))))


def _decode(tok: str) -> str:
    """Percent-decode a token until it stops changing (nested URLs are often encoded twice)."""
    for _ in range(3):
        decoded = unquote(tok)
        if decoded == tok:
            break
        tok = decoded
    return tok.lower()


def _resolve_tokens(text: str) -> list[PaperRef]:
    """The general path of :func:`resolve`, over a lower-cased text, token by token."""
    refs: list[PaperRef] = []
    seen: set[tuple] = set()
    found: list = []
    for tok in text.split():
        if "%" in tok:
            tok = _decode(tok)
        _token(tok, found)
        if len(found) > 1:
            found.sort(key=lambda pair: pair[0])
        for _, ref in found:
            if ref is not None:
                key = (ref.id, ref.version)
                if key not in seen:
                    seen.add(key)
                    refs.append(ref)
        found.clear()
    return refs


def resolve(text: str) -> list[PaperRef]:
    """Text or URL in, canonical refs out: every paper named, in order of appearance.

    Duplicates (same id and version) are dropped; ``[]`` when nothing resolves. Reads only the
    first ``MAX_INPUT`` characters and never raises on a ``str``.
    """
    text = text[:MAX_INPUT].lower()
    m = _FAST.fullmatch(text)
    if m:
        ref = _ref(*m.group("yymm", "num", "arch", "old", "v"))
        return [ref] if ref else []
    return _resolve_tokens(text)
