"""The README stays true: its settings table and its two set-up commands."""

import re

from papermirror.settings_doc import settings_markdown
from tests.stack import ROOT

README = (ROOT / "README.md").read_text()


def test_settings_table_is_current():
    table = README.split("<!-- settings:start -->")[1].split("<!-- settings:end -->")[0]
    assert table.strip() == settings_markdown(), "run: python -m papermirror.settings_doc"


def test_exactly_two_setup_commands_and_ci_runs_the_test_one():
    setup = README.split("## Set up")[1].split("\n## ")[0]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.S)
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert "papermirror up" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    last_command = [line for line in ci if line.strip() and not line.startswith("#")][-1]
    assert last_command == commands[1]
