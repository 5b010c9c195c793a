"""A small in-process LRU of rendered pages, keyed by the page's ETag.

The ETag hashes the stored record bytes, so a changed record can never be
served from a stale entry; a cached page costs one Redis read and a hash.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class PageCache:
    """Thread-safe LRU of ``etag -> rendered bytes``."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The cached page, or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        """Remember a rendered page, evicting the least recently used."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
