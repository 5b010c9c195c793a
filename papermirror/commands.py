"""The ``papermirror`` subcommands besides ``up``: ``fetch``, ``backfill``, ``import``,
``backup`` and ``restore`` (the last two in :mod:`papermirror.backup`).

Each needs the mirror's Redis: ``PAPERMIRROR_REDIS_URL`` when set, else the
embedded Redis a running ``papermirror up`` announced in the data dir, else an
embedded Redis started on the data dir for the command's duration.

``fetch`` runs the daily feed job through RQ, which this package must not
import: it hands over to ``python -m worker.cli fetch`` as a child process,
the way ``up`` starts the workers by module name.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from papermirror import embedded
from papermirror.settings import Settings

if TYPE_CHECKING:
    import redis

# Heavy modules (redis-py, requests, the parsers) are imported where they are
# used: `papermirror up` parses its command line here and must stay small.

log = logging.getLogger("papermirror")


def url_file(settings: Settings) -> Path:
    """Where ``papermirror up`` writes the URL of its embedded Redis."""
    return Path(settings.data_dir) / "redis" / "url"


def running_url(settings: Settings) -> str | None:
    """The URL of the embedded Redis of a running `papermirror up`, if one answers."""
    path = url_file(settings)
    if not path.is_file():
        return None
    url = path.read_text().strip()
    # Listening is enough: a Redis too busy to answer a PING in time is still running,
    # and a second one started on its data dir would corrupt its files.
    if embedded.ping(url, timeout=5) or embedded.listening(url):
        return url
    log.info("the Redis named in %s does not answer", path)
    return None


@contextmanager
def connect(settings: Settings) -> Iterator[str]:
    """The URL of the mirror's Redis for the duration of a command (see module docstring)."""
    if settings.redis_url:
        yield settings.redis_url
        return
    url = running_url(settings)
    if url:
        yield url
        return
    server = embedded.start(Path(settings.data_dir) / "redis", maxmemory=settings.redis_maxmemory)
    try:
        yield server.url
    finally:
        server.stop()


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Declare the subcommands on the ``papermirror`` parser."""
    p = sub.add_parser("fetch", help="fetch the daily feeds now and wait for the job")
    p.add_argument(
        "categories",
        nargs="*",
        metavar="CATEGORY",
        help="categories or archives (default: PAPERMIRROR_CATEGORIES)",
    )
    p = sub.add_parser("backfill", help="harvest a date range of papers over OAI-PMH")
    p.add_argument("--from", dest="start", required=True, type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--until", required=True, type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--set", dest="set_spec", help="OAI-PMH set, e.g. cs or physics:hep-th")
    p.add_argument(
        "--format",
        dest="prefix",
        default="arXivRaw",
        choices=("arXivRaw", "arXiv"),
        help="metadata format (arXivRaw has every version; default)",
    )
    p = sub.add_parser("import", help="load the arXiv metadata snapshot (JSON lines)")
    p.add_argument("file", help="the snapshot, plain or .gz/.bz2/.xz/.zst")
    p.add_argument("--jobs", type=int, default=None, help="parser processes (default: CPUs)")
    p = sub.add_parser("backup", help="write a consistent snapshot (RDB) of the mirror's Redis")
    p.add_argument("file", help="where to write the snapshot")
    p = sub.add_parser("restore", help="load a snapshot into a stopped mirror's data dir")
    p.add_argument("file", help="a snapshot written by `papermirror backup`")
    # --- faq ---
    p = sub.add_parser("faq-clear", help="drop cached paper FAQs: all of them, or some papers'")
    p.add_argument("papers", nargs="*", metavar="ID", help="paper ids (default: every FAQ)")
    sub.add_parser("reindex", help="rebuild the search index from every paper in Redis")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of these subcommands; returns the exit code."""
    import redis

    if args.command in ("backup", "restore"):
        from papermirror import backup

        return backup.run(args, settings)
    with connect(settings) as url:
        settings = Settings.from_env(settings.to_env(), redis_url=url)
        if args.command == "fetch":
            return fetch(settings, args.categories)
        client = redis.Redis.from_url(url)
        if args.command == "backfill":
            return backfill(settings, client, args)
        if args.command == "faq-clear":
            return faq_clear(client, args.papers)
        if args.command == "reindex":
            from papermirror.search.rebuild import reindex_command

            return reindex_command(settings, client)
        return import_file(client, args.file, args.jobs)


def fetch(settings: Settings, categories: list[str]) -> int:
    """Run the daily feed job now through RQ and wait for it (see worker.cli)."""
    env = {**os.environ, **settings.to_env()}
    argv = [sys.executable, "-m", "worker.cli", "fetch", *categories]
    return subprocess.run(argv, env=env, check=False).returncode


def backfill(settings: Settings, client: redis.Redis, args: argparse.Namespace) -> int:
    """Harvest ``--from``..``--until`` over OAI-PMH into the store."""
    from papermirror.arxiv.harvest import HarvestError, harvest
    from papermirror.arxiv.http import ArxivUnavailable, PoliteSession
    from papermirror.arxiv.limiter import ArxivLimiter

    if args.start > args.until:
        print("--from must not be after --until", file=sys.stderr)
        return 2
    session = PoliteSession(settings, ArxivLimiter(client, settings.arxiv_min_interval))
    try:
        report = harvest(
            client,
            session,
            settings.arxiv_oai_url,
            args.start,
            args.until,
            set_spec=args.set_spec,
            prefix=args.prefix,
            progress=sys.stderr.isatty(),
        )
    except (HarvestError, ArxivUnavailable) as exc:
        print(f"backfill failed: {exc}", file=sys.stderr)
        return 1
    finally:
        session.close()
    print(
        f"harvested {report.papers} papers in {report.pages} pages"
        f" ({len(report.deleted)} deleted records skipped)"
    )
    return 0


def import_file(client: redis.Redis, path: str, jobs: int | None) -> int:
    """Import a snapshot file into the store."""
    from papermirror.history import import_snapshot

    if not os.path.isfile(path):
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    report = import_snapshot(client, path, workers=jobs, progress=sys.stderr.isatty())
    rate = report.papers / report.seconds if report.seconds else 0.0
    print(
        f"imported {report.papers} papers in {report.seconds:.1f}s ({rate:,.0f}/s): "
        f"{report.added} new, {report.updated} merged, {report.unchanged} unchanged, "
        f"{report.bad} unreadable lines"
    )
    return 0


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


def faq_clear(client: redis.Redis, papers: list[str]) -> int:
    """Drop the cached FAQs of ``papers`` (every FAQ when none is named)."""
    from papermirror.faq.cache import FaqStore

    faqs = FaqStore(client)
    dropped = sum(faqs.clear(p) for p in papers) if papers else faqs.clear()
    print(f"dropped {dropped} cached FAQ{'s' if dropped != 1 else ''}")
    return 0
