"""The README's settings table, made from the settings' own docs:
``python -m papermirror.settings_doc`` prints it (tests/test_readme.py holds the README to it)."""

from __future__ import annotations

import dataclasses

from papermirror.arxiv.settings import ArxivSettings
from papermirror.faq.settings import FaqSettings
from papermirror.settings import PREFIX, Settings


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows for the README."""
    rows = []
    defaults = Settings()
    # The mirror's own settings first, then the arXiv clients', then the FAQ's.
    order = [*Settings.__annotations__, *ArxivSettings.__annotations__]
    order += FaqSettings.__annotations__
    by_name = {f.name: f for f in dataclasses.fields(Settings)}
    for f in (by_name[name] for name in order):
        default = getattr(defaults, f.name)
        if f.name == "data_dir":
            default = "~/.local/share/papermirror"
        elif isinstance(default, tuple):
            default = ",".join(default)
        rows.append((PREFIX + f.name.upper(), str(default), f.metadata.get("doc", "")))
    return rows


def settings_markdown() -> str:
    """The README's settings table, as Markdown."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, default, doc in settings_table():
        lines.append(
            f"| `{name}` | `{default}` | {doc} |" if default else f"| `{name}` | | {doc} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_markdown())
