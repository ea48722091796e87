"""The content loads, and each kind of broken content is refused with a line naming where and what."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.content.loader import ContentError, load
from ivr.content.model import Content, Steps
from tests.conftest import PROMPTS


def test_every_prompts_file_loads(content: Content) -> None:
    assert set(content.files) == {path.name for path in PROMPTS.glob("*.toml")}
    assert [node.scenario for _, node in content.scenarios()] == [1, 2, 3]
    assert content.meta.helpdesk_number == "0333 200 1133"


def test_models_are_frozen(content: Content) -> None:
    with pytest.raises(ValueError, match="frozen"):
        content.meta.retry_cap = 9  # type: ignore[misc]


def _break(prompts: Path, filename: str, old: str, new: str) -> None:
    path = prompts / filename
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the fixture edit no longer applies: {old!r} is not in {filename}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(prompts: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load(prompts)
    return caught.value.problems


# Each case: (file, text to replace, replacement, a fragment of the expected problem line).
BROKEN = {
    "unknown field": (
        "call.toml", 'say = "Main menu."', 'say = "Main menu."\ncolour = "blue"',
        "call.toml: node 'main': field 'colour': unknown field",
    ),
    "missing field": (
        "call.toml", 'invalid = "That does not look', 'invalidd = "That does not look',
        "call.toml: node 'text_me': field 'invalid': Field required",
    ),
    "unknown kind": (
        "call.toml", 'kind = "entry"', 'kind = "question"',
        "call.toml: node 'ods_keys': field 'kind': must be one of: menu, steps, entry, confirm, message",
    ),
    "goto to nowhere": (
        "triage.toml", 'goto = "all_working"', 'goto = "all_workin"',
        "triage.toml: node 'triage_shared': field 'options.0.goto': no node called 'all_workin'",
    ),
    "unreachable node": (
        "triage.toml", 'goto = "owner_none"', 'goto = "owner_ask"',
        "triage.toml: node 'owner_none': cannot be reached from 'welcome'",
    ),
    "reserved key as a choice": (
        "call.toml", '{ key = "4", label = "If you have rung', '{ key = "9", label = "If you have rung',
        "call.toml: node 'main': field 'options.3.key': '9' is reserved on every menu for 'back'",
    ),
    "same key twice": (
        "triage.toml",
        '{ key = "2", label = "If no", goto = "triage_account" }',
        '{ key = "1", label = "If no", goto = "triage_account" }',
        "triage.toml: node 'triage_login': field 'options.1.key': key '1' is used twice",
    ),
    "entry check that does not exist": (
        "call.toml", 'check = "uk_mobile"', 'check = "os.system"',
        "call.toml: node 'text_me': field 'check': "
        "Input should be 'uk_mobile', 'ods_keys', 'ods_exact', 'ticket_number' or 'callback'",
    ),
    "message with no way on": (
        "call.toml", 'say = "Thank you for calling. Good luck with the helpdesk. Goodbye."\nhangup = true',
        'say = "Thank you for calling. Good luck with the helpdesk. Goodbye."',
        "call.toml: node 'goodbye': needs exactly one of 'then', 'resume' or 'hangup'",
    ),
    "silence that never says goodbye": (
        "call.toml", 'fallback = "goodbye"\noptions', 'fallback = "fallback"\noptions',
        "silence loops and never says goodbye: fallback_offer -> fallback -> fallback_offer",
    ),
    "unknown placeholder": (
        "call.toml", 'say = "I heard {mobile}."', 'say = "I heard {mobil}."',
        "call.toml: node 'text_confirm': field 'say': unknown placeholder {mobil}",
    ),
    "ODS placeholder where the code may be unknown": (
        "prepare.toml", 'say = "Some time.', 'say = "Your code {ods}. Some time.',
        "prepare.toml: node 'checklist': field 'steps.5.say': unknown placeholder {ods}",
    ),
    "text outside GSM-7": (
        "sms.toml", "Owner: controls", "Owner \u2013 controls",
        "sms.toml: sms template 'glossary': field 'body': not GSM-7: '\u2013'",
    ),
    "text over its budget": (
        "sms.toml", 'max_segments = 2\nbody = """Helpdesk', 'max_segments = 1\nbody = """Helpdesk',
        "sms.toml: sms template 'escalation': field 'body': 2 segments at its longest",
    ),
    "keyword text the HELP list cannot name": (
        "sms.toml", 'describes = "what to press"\n', '',
        "sms.toml: sms template 'on_the_call': field 'describes': a text with keywords needs a few words",
    ),
    "a follow-up that does not exist": (
        "sms.toml", 'follow_up = "answers_1"', 'follow_up = "answer_1"',
        "sms.toml: sms template 'scenario_1': field 'follow_up': no sms template called 'answer_1'",
    ),
    "a text in three": (
        "sms.toml", '[sms.answers_1]\n', '[sms.answers_1]\nfollow_up = "answers_2"\n',
        "sms.toml: sms template 'scenario_1': field 'follow_up': 'answers_1' has a follow-up of its own",
    ),
    "a scenario with two things to say first": (
        "scenarios.toml", '  "Ask for a new temporary password.",\n', "",
        "scenarios.toml: node 'scenario_password': field 'say_first': needs exactly 3 lines, not 2",
    ),
    "a long thing to say first": (
        "scenarios.toml", '"Ask for a new temporary password."',
        '"Ask for a new temporary password, and keep asking until they give you one, however long it takes."',
        "scenarios.toml: node 'scenario_password': field 'say_first.2': 18 words; keep it to 15",
    ),
    "bad TOML": (
        "prepare.toml", '[nodes.glossary]', '[nodes.glossary',
        "prepare.toml: not valid TOML",
    ),
    "unknown sms template": (
        "prepare.toml", 'sms = "glossary"', 'sms = "glosary"',
        "prepare.toml: node 'glossary': field 'sms': no sms template called 'glosary'",
    ),
    "keys that clash": (
        "call.toml", 'slow = "8"', 'slow = "0"',
        "[keys]: the menu keys must differ, but 0 is used twice",
    ),
    "Twilio's opt-out word as a keyword": (
        "sms.toml", 'keywords = ["CHECKLIST", "READY"]', 'keywords = ["CHECKLIST", "REVOKE"]',
        "sms.toml: sms template 'checklist': field 'keywords': REVOKE is reserved",
    ),
    "Twilio's opt-in word as a keyword": (
        "sms.toml", 'keywords = ["CHECKLIST", "READY"]', 'keywords = ["CHECKLIST", "UNSTOP"]',
        "sms.toml: sms template 'checklist': field 'keywords': UNSTOP is reserved",
    ),
    "sentence too long for the ear": (
        "triage.toml", '"Then ask them to give you access to the shared mailbox."',
        '"Then ask them, as soon as you can and politely, to give you access to the shared mailbox at the home."',
        "triage.toml: node 'owner_ask': a sentence of 21 words, over 20 for the ear: split it:",
    ),
    "letters run together": (
        "triage.toml", 'say = "Can you log in to your own N H S mail account?"',
        'say = "Can you log in to your own NHSmail account?"',
        "triage.toml: node 'triage_login': 'NHSmail' would be read as a word: write the letters apart ('N H S'...)",
    ),
    "a step that is neither said nor a push-back": (
        "triage.toml", '{ helpdesk = "We have a new process now for mailbox Owners.", reply',
        '{ say = "Hello.", helpdesk = "We have a new process now for mailbox Owners.", reply',
        "triage.toml: node 'owner_none': field 'steps.6': Value error, a step has either 'say'",
    ),
    "stale date": (
        "call.toml", "reviewed_on = 2026-11-25", 'reviewed_on = "last spring"',
        "call.toml: [meta]: field 'reviewed_on': Input should be a valid date",
    ),
}  # fmt: skip
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_content_is_refused_with_a_clear_line(prompts_copy: Path, case: str) -> None:
    filename, old, new, expected = BROKEN[case]
    _break(prompts_copy, filename, old, new)
    problems = _problems(prompts_copy)
    assert any(expected in line for line in problems), problems


def test_the_same_node_in_two_files_is_refused(prompts_copy: Path) -> None:
    (prompts_copy / "extra.toml").write_text('[nodes.main]\nkind = "message"\nsay = "Hi."\nhangup = true\n')
    assert "extra.toml: [nodes.main] is already defined in call.toml" in _problems(prompts_copy)


def test_an_unknown_section_is_refused(prompts_copy: Path) -> None:
    (prompts_copy / "extra.toml").write_text("[menus.main]\nsay = 'x'\n")
    assert any("extra.toml: unknown section [menus]" in line for line in _problems(prompts_copy))


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    assert _problems(tmp_path) == [f"{tmp_path}: no .toml files found"]


def test_check_command_summarises_good_content() -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "ok: " in result.output and "3 scenarios" in result.output and "s of speech" in result.output


def test_check_command_reports_problems_without_a_traceback(prompts_copy: Path) -> None:
    _break(prompts_copy, "triage.toml", 'goto = "all_working"', 'goto = "nowhere"')
    _break(prompts_copy, "prepare.toml", 'sms = "glossary"', 'sms = "glosary"')
    result = CliRunner().invoke(main, ["check", "--prompts", str(prompts_copy)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines), lines
    assert "Traceback" not in result.output


def test_check_warns_when_the_content_is_over_a_year_old(prompts_copy: Path) -> None:
    _break(prompts_copy, "call.toml", "reviewed_on = 2026-11-25", "reviewed_on = 2020-01-31")
    result = CliRunner().invoke(main, ["check", "--prompts", str(prompts_copy)])
    assert result.exit_code == 0
    assert "warning: the content was last reviewed on 2020-01-31" in result.output


def test_every_steps_node_has_a_text(content: Content) -> None:
    for node in content.nodes.values():
        if isinstance(node, Steps):
            assert node.sms in content.sms


def test_each_scenario_has_three_things_to_say_first(content: Content) -> None:
    for _, node in content.scenarios():
        assert node.scenario is not None and len(content.say_first(node.scenario)) == 3
    assert content.say_first(9) == ()
