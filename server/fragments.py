"""Each paper's listing entry, rendered once per (id, version, announce type) and record.

An entry looks the same in every listing it appears in, except for its
number, so the entry template is rendered with a placeholder number and kept
as the parts around it; a listing page then costs a join per entry. A
fragment is reused only while the stored record's bytes are the same, and the
key holds the templates' digest, so a record or template change re-renders.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from flask import current_app, g
from markupsafe import Markup

from papermirror.listings import Entry
from papermirror.records import Paper
from server.pagecache import templates_digest

TEMPLATE = "listing_entry.html"
# A placeholder autoescaping leaves alone and no record text can contain.
NUMBER = "\x00n\x00"
SIZE = 4096  # fragments per process: a whole day of every archive (~1,500 papers) and more


class Fragments:
    """A thread-safe LRU of rendered entries."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._items: OrderedDict[tuple, tuple[bytes, tuple[str, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def render(
        self, items: Sequence[tuple[Entry, Paper, bytes]], context: dict | None = None
    ) -> list[bytes]:
        """The entries' UTF-8 markup as chunks to join, numbered 1…n in order.

        ``context`` holds the entry template's other variables (part of the key).
        Renders only what is not cached. Chunks, not one string: a listing page
        is joined once, as bytes, around its template (:func:`splice`).
        """
        context = context or {}
        digest = (templates_digest(), *sorted(context.items()))
        out: list[bytes] = []
        template = None
        items_get = self._items.get
        math = False
        for n, (entry, paper, blob) in enumerate(items, 1):
            key = (digest, entry.id, entry.version, entry.announce_type)
            hit = items_get(key)
            if hit is None or hit[0] != blob:
                if template is None:
                    template = current_app.jinja_env.get_template(TEMPLATE)
                # Whether this entry holds math (the tex_html filter flags it on g), so a
                # page of cached entries still loads the math renderer.
                before = g.pop("math_used", False)
                html = template.render(context, e=entry, p=paper, n=NUMBER)
                flagged = bool(g.pop("math_used", False))
                g.math_used = before or flagged
                hit = (blob, tuple(part.encode() for part in html.split(NUMBER)), flagged)
                self._put(key, hit)
            math = math or hit[2]
            parts = hit[1]
            out.append(parts[0])
            for part in parts[1:]:
                out.append(str(n).encode())
                out.append(part)
        if math:
            g.math_used = True
        return out

    def _put(self, key: tuple, value: tuple) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


fragments = Fragments()


def slot(name: str) -> Markup:
    """A placeholder for a list of entries in a page template, filled by :func:`splice`."""
    return Markup(f"\x00entries:{name}\x00")


def splice(page: str, chunks: dict[str, list[bytes]]) -> bytes:
    """The rendered page as UTF-8, each :func:`slot` replaced by its entries' chunks."""
    out: list[bytes] = []
    rest = page.encode()
    for name, parts in chunks.items():
        before, found, rest = rest.partition(f"\x00entries:{name}\x00".encode())
        out.append(before)
        if found:
            out.extend(parts)
        else:
            rest = before
            out.pop()
    out.append(rest)
    return b"".join(out)
