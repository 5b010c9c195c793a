"""Category listings (/arxiv/cs.AI): to be built by the daily-feeds work."""

from __future__ import annotations


def listing_page(spec: str):
    """The listing for a category spec, or a clear 404."""
    from server.papers import not_found

    return not_found(f"“{spec}” is not an arXiv identifier.")
