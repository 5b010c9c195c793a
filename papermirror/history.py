"""History: an import of the arXiv metadata snapshot (harvests: :mod:`papermirror.arxiv.harvest`).

It only adds papers: a record already stored is merged by the store's rules
(:func:`papermirror.records.merge`), so an older version never replaces a
newer one, and importing twice changes nothing.

The snapshot import is built for millions of lines: worker processes parse and
encode blocks of lines, and this process writes each block with one Lua call
that stores every record not stored yet (``HSETNX``, see :mod:`papermirror.buckets`).
Only records already stored take the careful path: compare bytes, then merge
under WATCH.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import redis

from papermirror import buckets, codec, keys
from papermirror.arxiv.bylines import paper_ref, split_authors, tex_to_unicode
from papermirror.arxiv.oai import clean_abstract, rfc2822_to_iso
from papermirror.arxiv.snapshot import clean_text, open_counted, read_blocks
from papermirror.search.announce import announce
from papermirror.store import Store

log = logging.getLogger(__name__)

BLOCK_SIZE = 1 << 20  # bytes of snapshot lines per worker task (~600 papers)


# Store every record that is not stored yet; return the (1-based) positions of those that
# were. KEYS[i] is record i's bucket, ARGV[2i-1] and ARGV[2i] its field and blob.
_SET_NEW = """
local existed = {}
for i = 1, #KEYS do
  if redis.call('HSETNX', KEYS[i], ARGV[2 * i - 1], ARGV[2 * i]) == 0 then
    existed[#existed + 1] = i
  end
end
return existed
"""


@dataclass
class ImportReport:
    """What a snapshot import did."""

    lines: int = 0
    bad: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0

    @property
    def papers(self) -> int:
        """Records read from the file."""
        return self.added + self.updated + self.unchanged


# --- snapshot import --------------------------------------------------------------------------


def snapshot_row(r: dict) -> list | None:
    """``codec.serialize``'s row for one snapshot record, without building a Paper.

    The import's hot path: the same result as
    ``codec.serialize(snapshot.parse_snapshot_line(line))`` (the tests hold them
    equal), without the objects. Raises what the reference raises on odd values.
    """
    paper_id, title = r.get("id"), r.get("title")
    if not isinstance(paper_id, str) or not isinstance(title, str):
        return None
    ref = paper_ref(paper_id)
    if ref is None:
        return None
    versions = []
    for v in r.get("versions") or ():
        number = v.get("version", "").lstrip("v")
        if number.isdigit():
            versions.append([int(number), rfc2822_to_iso(v.get("created")), None])
    versions.sort(key=lambda v: v[0])
    parsed = r.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = _parsed_authors(parsed)
    else:
        found = split_authors(r.get("authors") or "", and_separates=True)
        authors = [[a.name, list(a.affiliations)] if a.affiliations else a.name for a in found]
    return [
        ref.id,
        versions[-1][0] if versions else ref.version or 1,
        " ".join(title.split()),
        authors,
        clean_abstract(r.get("abstract")),
        (r.get("categories") or "").split(),
        versions[0][1] if versions else None,
        versions[-1][1] if versions else None,
        versions,
        clean_text(r.get("comments")),
        clean_text(r.get("journal-ref")),
        clean_text(r.get("doi")),
        clean_text(r.get("license")),
        "snapshot",
    ]


def _parsed_authors(parsed: list) -> list:
    # [keyname, forenames, suffix, affiliation...], shown "Forenames Keyname Suffix".
    out = []
    for entry in parsed:
        if len(entry) == 3 and not entry[2] and _plain(entry[0]) and _plain(entry[1]):
            # The common case, kept cheap: two real names, no suffix, no affiliation.
            name = " ".join(f"{entry[1]} {entry[0]}".split())
            out.append(tex_to_unicode(name) if "\\" in name else name)
            continue
        keyname, forenames, suffix = (list(entry[:3]) + ["", "", ""])[:3]
        name = " ".join(" ".join(p.split()) for p in (forenames, keyname, suffix) if p)
        if not name:
            continue
        if "\\" in name:
            name = tex_to_unicode(name)
        affiliations = [a for a in entry[3:] if isinstance(a, str) and a]
        out.append([name, affiliations] if affiliations else name)
    return out


def _plain(part) -> bool:
    return type(part) is str and part != "" and not part.isspace()


def encode_line(line: bytes) -> tuple[str, bytes] | None:
    """(id, blob) for one snapshot line; None for a blank or malformed one."""
    try:
        record = orjson.loads(line)
        row = snapshot_row(record) if isinstance(record, dict) else None
        if row is None:
            return None
        # orjson refuses what UTF-8 cannot hold (lone surrogates) and huge numbers.
        return row[0], codec.encode_serialized(orjson.dumps(row))
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None


def encode_block(block: bytes) -> tuple[list[str], list[bytes], int, int]:
    """(ids, blobs, lines, bad lines) for a block of snapshot lines. Runs in worker processes."""
    ids, blobs, lines, bad = [], [], 0, 0
    for line in block.splitlines():
        if not line.strip():
            continue
        lines += 1
        encoded = encode_line(line)
        if encoded is None:
            bad += 1
            continue
        ids.append(encoded[0])
        blobs.append(encoded[1])
    return ids, blobs, lines, bad


class SnapshotWriter:
    """Writes encoded blocks into Redis: new keys in one Lua call, existing ones merged."""

    def __init__(self, client: redis.Redis):
        self.redis = client
        self.store = Store(client)
        self._set_new = client.register_script(_SET_NEW)

    def write(self, ids: list[str], blobs: list[bytes], report: ImportReport) -> None:
        """Store one block's records and count what happened to them."""
        if not ids:
            return
        slots = [keys.paper_slot(i) for i in ids]
        args = [
            part for (_, field), blob in zip(slots, blobs, strict=True) for part in (field, blob)
        ]
        existed = self._set_new(keys=[bucket for bucket, _ in slots], args=args)
        report.added += len(ids) - len(existed)
        # The search indexers follow new records; merged ones announce in upsert_many.
        skip = set(existed)
        announce(self.redis, (i for n, i in enumerate(ids, 1) if n not in skip))
        if not existed:
            return
        # Rare on a first import, the rule on a re-run: identical bytes need
        # nothing; anything else goes through the store's merge, which never
        # lets an older version replace a newer one.
        positions = [i - 1 for i in existed]
        old = buckets.get_many(self.redis, [ids[i] for i in positions])
        changed = [
            codec.decode(blobs[i]) for i, o in zip(positions, old, strict=True) if o != blobs[i]
        ]
        report.unchanged += len(positions) - len(changed)
        if changed:
            self.store.upsert_many(changed)
            report.updated += len(changed)


def import_snapshot(
    client: redis.Redis,
    path: str | os.PathLike,
    *,
    workers: int | None = None,
    progress: bool = False,
    block_size: int = BLOCK_SIZE,
) -> ImportReport:
    """Load a snapshot file (plain or compressed) into the store; safe to re-run.

    ``workers`` parsing processes (default: one per CPU; 0 parses in this
    process). ``progress`` shows a progress bar on stderr.
    """
    if workers is None:
        workers = os.cpu_count() or 1
    report = ImportReport()
    started = time.perf_counter()
    # Start the pool before any thread exists (the progress bar's, Redis's).
    pool = _pool(workers) if workers > 0 else None
    writer = SnapshotWriter(client)
    stream, raw = open_counted(path)
    bar = _bar(os.path.getsize(path), "B", progress, unit_scale=True)
    try:
        for ids, blobs, lines, bad in _encoded(pool, read_blocks(stream, block_size), workers):
            report.lines += lines
            report.bad += bad
            writer.write(ids, blobs, report)
            if bar is not None:
                bar.update(raw.tell() - bar.n)
                bar.set_postfix(papers=report.papers, refresh=False)
    finally:
        if pool is not None:
            pool.terminate()
        stream.close()
        raw.close()
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _pool(workers: int):
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return context.Pool(workers)


def _encoded(pool, blocks: Iterator[bytes], workers: int):
    if pool is None:
        yield from map(encode_block, blocks)
        return
    # A bounded window of blocks in flight: Pool.imap would read the whole
    # file ahead into memory.
    window: deque = deque()
    for block in blocks:
        window.append(pool.apply_async(encode_block, (block,)))
        if len(window) >= 2 * workers + 1:
            yield window.popleft().get()
    while window:
        yield window.popleft().get()


def _bar(total: int | None, unit: str, enabled: bool, **options):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, dynamic_ncols=True, **options)
