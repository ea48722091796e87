from __future__ import annotations

import json
import re

from click.testing import CliRunner

from ivr import gsm7
from ivr.cli.main import main
from ivr.content.model import Content
from tests.conftest import ROOT


def test_tree_outline_starts_at_the_greeting() -> None:
    result = CliRunner().invoke(main, ["tree"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "welcome (message)"
    assert "  then -> main (menu)" in lines
    assert any("scenario_moved (scenario 3, 14 steps, 5 of them push-backs)" in line for line in lines)
    assert "goodbye (message) [ends the call]" in result.output
    assert "not reached" not in result.output  # every node hangs off a true edge


def test_tree_labels_silence_only_where_silence_goes(content: Content) -> None:
    lines = CliRunner().invoke(main, ["tree"]).output.splitlines()
    # In steps silence is minutes of waiting; at a menu, three misses; the caller's way to the goodbye.
    assert any(line.strip().startswith("7 silences, about 3 minutes -> fallback (") for line in lines)
    assert "  then, when the caller's home is not known -> unknown_caller (menu)" in lines
    assert any(line.strip() == "a silence or a wrong key -> main (see above)" for line in lines)
    assert any("keys that match no home -> ods_not_found (message)" in line for line in lines)
    assert any("first, on a call from a home's registered landline -> text_registered (menu)" in line for line in lines)
    assert not any("on silence" in line for line in lines)
    for node_id in content.nodes:
        assert any(f"-> {node_id} (" in line or line.startswith(f"{node_id} (") for line in lines), node_id


def test_tree_as_mermaid() -> None:
    result = CliRunner().invoke(main, ["tree", "--mermaid"])
    assert result.exit_code == 0
    assert result.output.startswith("flowchart TD\n")
    assert '    main -->|"1"| triage_login' in result.output
    assert '    main -.->|"3 silences or wrong keys"| fallback' in result.output
    assert '    scenario_moved -.->|"7 silences, about 3 minutes"| fallback' in result.output


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert re.search(rf"`ivr {name}\b", readme), f"the README does not document `ivr {name}`"


def test_sms_preview_prints_each_text_with_its_segments() -> None:
    result = CliRunner().invoke(main, ["sms", "preview", "--ods", "vl15a"])
    assert result.exit_code == 0, result.output
    assert "== scenario_1: GSM-7, " in result.output and "ODS code: VL15A." in result.output
    assert re.search(r"== checklist: GSM-7, \d+ characters, [1-3] segments?\n", result.output)
    # An escalation's text is shown filled in, as long as a caller's can be, not with empty gaps.
    assert "Helpdesk ticket: 8123456." in result.output and "Waiting for the leaver process" in result.output


def test_sms_preview_as_json_for_scripts(content: Content) -> None:
    result = CliRunner().invoke(main, ["sms", "preview", "3", "--json"])
    assert result.exit_code == 0, result.output
    line, second = result.output.splitlines()
    text = json.loads(line)
    assert json.loads(second)["purpose"] == "answers_3"  # a scenario's script comes with its second text
    assert text["purpose"] == "scenario_3" and text["encoding"] == "GSM-7"
    assert text["segments"] == gsm7.count(text["body"]).segments
    assert 1 <= text["segments"] <= content.sms["scenario_3"].max_segments
    assert "care.(your ODS code)@nhs.net" in text["body"]  # no --ods: the home is not known


def test_sms_preview_refuses_what_is_not_a_text_or_a_code() -> None:
    result = CliRunner().invoke(main, ["sms", "preview", "nonsense"])
    assert result.exit_code == 2 and "no text called 'nonsense'" in result.output
    result = CliRunner().invoke(main, ["sms", "preview", "--ods", "bad{x}"])
    assert result.exit_code == 2 and "is not an ODS code" in result.output
