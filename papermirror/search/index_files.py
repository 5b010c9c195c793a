"""What an index directory keeps beside its segments: its stream position and its version.

The position is the last search-stream entry the committed index holds, so a
restarted indexer resumes there; the version says what the documents hold, so
an index written by an older indexer is rebuilt.
"""

from __future__ import annotations

from pathlib import Path

POSITION_FILE = "stream-position"
# What the documents hold; an index written by an older indexer is rebuilt on start.
# 2: author keys for every forename initial; feed-only papers dated by their announcement.
VERSION_FILE = "index-version"
INDEX_VERSION = "2"


def read_position(path: Path) -> str | None:
    """The last stream entry an index holds, or None for a new or unknown index."""
    try:
        text = (path / POSITION_FILE).read_text().strip()
    except OSError:
        return None
    return text or None


def write_position(path: Path, position: str) -> None:
    """Record the stream entry the committed index holds (atomically)."""
    tmp = path / (POSITION_FILE + ".tmp")
    tmp.write_text(position + "\n")
    tmp.replace(path / POSITION_FILE)


def read_version(path: Path) -> str | None:
    """The document version an index was built with (None before versions were recorded)."""
    try:
        return (path / VERSION_FILE).read_text().strip() or None
    except OSError:
        return None


def stream_id(entry_id) -> str:
    """A stream entry id as text."""
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def older(a: str, b: str) -> bool:
    """Whether stream entry id ``a`` comes before ``b``."""
    ams, _, aseq = a.partition("-")
    bms, _, bseq = b.partition("-")
    return (int(ams), int(aseq or 0)) < (int(bms), int(bseq or 0))


def write_version(path: Path) -> None:
    """Record that the index holds documents of the current :data:`INDEX_VERSION`."""
    (path / VERSION_FILE).write_text(INDEX_VERSION + "\n")
