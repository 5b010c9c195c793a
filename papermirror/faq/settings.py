"""The settings of the paper FAQ: the model, its limits and what it is given
(part of :class:`papermirror.settings.Settings`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FaqSettings:
    """The FAQ's model and prompts; ``PAPERMIRROR_*`` like every setting."""

    llm_url: str = field(
        default="",
        metadata={
            "doc": "OpenAI-compatible endpoint for the paper FAQ, e.g. "
            "`http://127.0.0.1:11434/v1` (Ollama); empty: no FAQ"
        },
    )
    llm_model: str = field(
        default="", metadata={"doc": "model name for the FAQ (e.g. `qwen3`); empty: no FAQ"}
    )
    llm_api_key: str = field(
        default="",
        repr=False,  # kept out of any log line that prints the settings
        metadata={"doc": "API key of the model server, if it needs one (never shown)"},
    )
    llm_concurrency: int = field(
        default=1, metadata={"doc": "FAQ generations at once (LLM worker processes)"}
    )
    llm_daily_limit: int = field(
        default=500,
        metadata={"doc": "FAQ generations per UTC day, to protect a paid key (0: no cap)"},
    )
    llm_max_input_chars: int = field(
        default=60000, metadata={"doc": "characters of paper text sent to the model at most"}
    )
    llm_timeout: float = field(
        default=120.0,
        metadata={"doc": "seconds the model may stay silent before a request is given up"},
    )
    faq_language: tuple[str, ...] = field(
        default=("en",),
        metadata={
            "doc": "FAQ languages, comma-separated (`en`, `zh`, ...): the first is the "
            "default, readers may ask for the others"
        },
    )
    faq_categories: tuple[str, ...] = field(
        default=(),
        metadata={"doc": "categories whose new papers get their FAQ made after each daily fetch"},
    )
    faq_fulltext: str = field(
        default="licensed",
        metadata={
            "doc": "full text sent to the model: `licensed` (CC BY, CC BY-SA, CC0 only), "
            "`all` (personal or research use), `never` (abstract only)"
        },
    )
    faq_prompt: str = field(
        default="",
        metadata={"doc": "a TOML file replacing the FAQ's built-in prompt (see /faq/about)"},
    )

    @property
    def faq_enabled(self) -> bool:
        """Whether a model is configured for the FAQ."""
        return bool(self.llm_url and self.llm_model)
