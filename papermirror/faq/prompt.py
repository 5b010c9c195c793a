"""The FAQ prompt: a TOML data file in the package, replaceable by ``PAPERMIRROR_FAQ_PROMPT``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

# Languages with a name the model understands; any other code is passed as is.
LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Simplified Chinese (简体中文)",
    "zh-tw": "Traditional Chinese (繁體中文)",
    "ja": "Japanese",
    "ko": "Korean",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "pt": "Portuguese",
    "ru": "Russian",
    "it": "Italian",
}


class PromptError(ValueError):
    """The prompt file is missing a part or cannot be read."""


@dataclass(frozen=True)
class Prompt:
    """The system prompt, the paper template, the TL;DR question and the six questions."""

    system: str
    paper: str
    tldr: str
    questions: tuple[str, ...]
    source: str  # "built-in" or the override's path

    def text(self, template: str, language: str) -> str:
        """A template with ``{language}`` filled in (other braces left alone)."""
        return template.replace("{language}", language_name(language)).strip()


def language_name(code: str) -> str:
    """The language's English name for the prompt, e.g. ``zh`` -> Simplified Chinese."""
    return LANGUAGE_NAMES.get(code.lower(), code)


def builtin_text() -> str:
    """The TOML text of the built-in prompt."""
    return resources.files("papermirror.faq").joinpath("prompt.toml").read_text("utf-8")


@lru_cache(maxsize=8)
def load(override: str = "") -> Prompt:
    """The prompt in ``override`` (a TOML file path), else the built-in one."""
    if override:
        try:
            text = Path(override).read_text("utf-8")
        except OSError as exc:
            raise PromptError(f"cannot read PAPERMIRROR_FAQ_PROMPT={override}: {exc}") from None
    else:
        text = builtin_text()
    return parse(text, override or "built-in")


def parse(text: str, source: str = "built-in") -> Prompt:
    """Parse and check a prompt file's text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"the FAQ prompt ({source}) is not valid TOML: {exc}") from None
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions or len(questions) > 12:
        raise PromptError(f"the FAQ prompt ({source}) needs 1 to 12 `questions`")
    for name in ("system", "paper", "tldr"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise PromptError(f"the FAQ prompt ({source}) needs a `{name}` text")
    if "{abstract}" not in data["paper"]:
        raise PromptError(f"the FAQ prompt's `paper` ({source}) must contain {{abstract}}")
    return Prompt(
        system=data["system"],
        paper=data["paper"],
        tldr=data["tldr"],
        questions=tuple(str(q).strip() for q in questions),
        source=source,
    )
