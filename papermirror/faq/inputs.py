"""What the model reads about a paper: metadata and abstract always, full text when allowed.

The full text comes from arXiv's HTML (LaTeXML) of the exact version, fetched
through the global arXiv limiter like every arXiv request, converted by
:mod:`papermirror.arxiv.latexml`, cut to ``PAPERMIRROR_LLM_MAX_INPUT_CHARS``,
used for the requests and never stored.

``PAPERMIRROR_FAQ_FULLTEXT`` decides whose text may be sent:

* ``licensed`` (default): papers under CC BY, CC BY-SA or CC0 only, whose
  licences allow reuse; the abstract (CC0 metadata) otherwise;
* ``all``: every paper, for a personal or research instance (arXiv's terms
  allow that use);
* ``never``: the abstract only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from papermirror.arxiv.http import ArxivUnavailable, PoliteSession
from papermirror.arxiv.latexml import cut, html_to_text
from papermirror.faq.prompt import Prompt
from papermirror.records import Paper
from papermirror.settings import Settings

log = logging.getLogger(__name__)

FULLTEXT_MODES = ("licensed", "all", "never")
# CC BY and CC BY-SA (any version), and CC0; not NC or ND, not arXiv's own licence.
_OPEN_LICENCE = re.compile(
    r"creativecommons\.org/(?:licenses/(?:by|by-sa)/|publicdomain/zero/)", re.I
)
_FULLTEXT_HEADING = "Full text (from arXiv's HTML; bibliography left out):"


@dataclass(frozen=True)
class PaperInput:
    """The paper as the model gets it. ``fulltext`` is empty when the abstract is all."""

    source: str  # "fulltext" or "abstract"
    fulltext: str = ""
    note: str = ""  # why the full text was not used, for the log


def open_licence(licence: str | None) -> bool:
    """Whether a paper's licence lets its text be reused (CC BY, CC BY-SA, CC0)."""
    return bool(licence and _OPEN_LICENCE.search(licence))


def fulltext_allowed(settings: Settings, paper: Paper) -> bool:
    """Whether ``PAPERMIRROR_FAQ_FULLTEXT`` lets this paper's full text be sent."""
    mode = settings.faq_fulltext.strip().lower()
    if mode not in FULLTEXT_MODES:
        log.error(
            "PAPERMIRROR_FAQ_FULLTEXT=%r is not one of %s; using `never`", mode, FULLTEXT_MODES
        )
        return False
    if mode == "never":
        return False
    return mode == "all" or open_licence(paper.license)


def html_url(settings: Settings, paper_id: str, version: int) -> str:
    """arXiv's HTML full text of one version."""
    return f"{settings.arxiv_html_url.rstrip('/')}/{paper_id}v{version}"


def gather(
    settings: Settings, paper: Paper, version: int, session: PoliteSession | None
) -> PaperInput:
    """The input for one paper version: the full text if allowed and arXiv has HTML for it."""
    if not fulltext_allowed(settings, paper):
        return PaperInput("abstract", note="licence or setting")
    if session is None:
        return PaperInput("abstract", note="no arXiv session")
    url = html_url(settings, paper.id, version)
    try:
        response = session.polite_get(url)
    except ArxivUnavailable as exc:
        log.warning("no full text for %sv%d: %s", paper.id, version, exc)
        return PaperInput("abstract", note="arXiv unreachable")
    if response.status_code != 200 or b"ltx_" not in response.content[:200_000]:
        return PaperInput("abstract", note=f"no HTML (HTTP {response.status_code})")
    response.encoding = response.encoding or "utf-8"
    text = html_to_text(response.text)
    if len(text) < 200:
        return PaperInput("abstract", note="HTML without text")
    return PaperInput("fulltext", fulltext=text)


def paper_message(prompt: Prompt, paper: Paper, version: int, given: PaperInput, limit: int) -> str:
    """The user message that presents the paper, at most ``limit`` characters long."""
    authors = ", ".join(a.name for a in paper.authors[:30])
    if len(paper.authors) > 30:
        authors += f" and {len(paper.authors) - 30} more"
    fields = {
        "{source}": "full text" if given.source == "fulltext" else "abstract only",
        "{title}": paper.title,
        "{authors}": authors,
        "{categories}": ", ".join(paper.categories),
        "{id}": paper.id,
        "{version}": str(version),
    }
    template = prompt.paper.strip()
    for name, value in fields.items():
        template = template.replace(name, value)
    # Placeholders are replaced one by one (not str.format): LaTeX is full of braces.
    bare = template.replace("{abstract}", "").replace("{fulltext}", "")
    abstract = cut(paper.abstract, max(0, limit - len(bare)))
    room = limit - len(bare) - len(abstract)
    fulltext = ""
    if given.fulltext and room > len(_FULLTEXT_HEADING) + 500:
        fulltext = _FULLTEXT_HEADING + "\n" + cut(given.fulltext, room - len(_FULLTEXT_HEADING) - 1)
    message = template.replace("{abstract}", abstract).replace("{fulltext}", fulltext)
    return cut(message.strip(), limit)
