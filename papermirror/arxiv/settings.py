"""The settings of the arXiv clients: endpoints, the shared limiter's pace, retries and
redirects, and who we are to arXiv (part of :class:`papermirror.settings.Settings`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ArxivSettings:
    """How the mirror talks to arXiv; ``PAPERMIRROR_*`` like every setting."""

    contact: str = field(
        default="", metadata={"doc": "your e-mail, sent to arXiv in the User-Agent (please set it)"}
    )
    arxiv_api_url: str = field(
        default="https://export.arxiv.org/api/query", metadata={"doc": "arXiv API endpoint"}
    )
    arxiv_rss_url: str = field(
        default="https://rss.arxiv.org/rss/", metadata={"doc": "arXiv RSS base URL"}
    )
    arxiv_oai_url: str = field(
        default="https://oaipmh.arxiv.org/oai", metadata={"doc": "arXiv OAI-PMH endpoint"}
    )
    arxiv_min_interval: float = field(
        default=3.0, metadata={"doc": "seconds between two requests to arXiv, across all processes"}
    )
    arxiv_timeout: float = field(
        default=30.0, metadata={"doc": "seconds before an arXiv request times out"}
    )
    arxiv_retries: int = field(default=3, metadata={"doc": "retries of a failed arXiv request"})
    arxiv_max_backoff: float = field(
        default=120.0, metadata={"doc": "longest wait between retries, even if arXiv asks for more"}
    )
    arxiv_hosts: tuple[str, ...] = field(
        default=("arxiv.org",),
        metadata={
            "doc": "hosts (and their subdomains) an arXiv redirect may lead to, besides the "
            "configured arXiv endpoints; any other redirect is refused"
        },
    )
    arxiv_max_redirects: int = field(
        default=3, metadata={"doc": "redirects followed per arXiv request, each in its own slot"}
    )
    arxiv_html_url: str = field(
        default="https://arxiv.org/html/",
        metadata={"doc": "arXiv's HTML full-text base URL (the FAQ's input)"},
    )

    @property
    def user_agent(self) -> str:
        """The descriptive User-Agent arXiv asks API clients to send."""
        contact = self.contact or "contact not configured"
        return (
            f"PaperMirror/0.1 (self-hosted paper mirror; "
            f"+https://github.com/papermirror/papermirror; mailto:{contact})"
        )
