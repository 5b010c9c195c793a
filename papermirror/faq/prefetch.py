"""Which papers get their FAQ made in advance, after a daily fetch.

For each category of ``PAPERMIRROR_FAQ_CATEGORIES`` with a fresh listing, the
day's new submissions come first (``today``), then its cross-lists
(``backlog``). Papers that already have a FAQ, in the default language with
the configured model, are left out.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from papermirror import keys
from papermirror.faq.cache import FaqKey, FaqStore
from papermirror.listings import decode_listing
from papermirror.settings import Settings


def candidates(
    settings: Settings, client: redis.Redis, outcomes: Iterable[dict]
) -> list[tuple[FaqKey, str]]:
    """(FAQ key, priority) for the papers to prefetch, ``today`` ones first."""
    if not settings.faq_enabled or not settings.faq_categories:
        return []
    wanted = {c.lower() for c in settings.faq_categories}
    dates = sorted(
        {o["date"] for o in outcomes if o.get("status") == "ok" and o.get("date")}, reverse=True
    )
    if not dates:
        return []
    language = settings.faq_language[0] if settings.faq_language else "en"
    faqs = FaqStore(client)
    today: dict[tuple[str, int], None] = {}
    backlog: dict[tuple[str, int], None] = {}
    for date in dates[:1]:
        names = [keys.listing(c, date) for c in settings.faq_categories if c.lower() in wanted]
        for raw in client.mget(names) if names else []:
            for entry in decode_listing(raw):
                target = today if entry.announce_type == "new" else backlog
                if entry.announce_type in ("new", "cross"):
                    target[(entry.id, entry.version)] = None
    out = []
    for group, priority in ((today, "today"), (backlog, "backlog")):
        for paper_id, version in group:
            if priority == "backlog" and (paper_id, version) in today:
                continue
            key = FaqKey(paper_id, version, language, settings.llm_model)
            if faqs.get(key) is None:
                out.append((key, priority))
    return out
