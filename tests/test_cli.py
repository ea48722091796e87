from __future__ import annotations

import re

from click.testing import CliRunner

from ivr.cli import main
from tests.conftest import ROOT


def test_tree_outline_starts_at_the_greeting() -> None:
    result = CliRunner().invoke(main, ["tree"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "welcome (message)"
    assert "  then -> main (menu)" in lines
    assert any("scenario_moved (scenario 3, 9 steps, 5 push-backs)" in line for line in lines)
    assert "on silence -> fallback (message)" in lines  # the graceful ending is reached by silence alone
    assert "goodbye (message) [ends the call]" in result.output


def test_tree_as_mermaid() -> None:
    result = CliRunner().invoke(main, ["tree", "--mermaid"])
    assert result.exit_code == 0
    assert result.output.startswith("flowchart TD\n")
    assert '    main -->|"1"| triage_login' in result.output
    assert "    main -.->|silence| fallback" in result.output


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert re.search(rf"`ivr {name}\b", readme), f"the README does not document `ivr {name}`"
