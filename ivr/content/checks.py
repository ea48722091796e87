"""Whole-graph checks, run when content loads, so no caller ever falls into a broken node.

Every reference resolves, every node is reachable from the start, every interactive
node has a way out when the caller stays silent, the reserved keys are never reused
as menu choices, and every SMS template fits GSM-7 and its segment budget with its
placeholders at their longest.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, assert_never

from ivr import gsm7, speech
from ivr.content import put_through_checks
from ivr.content.graph import fallback_of, reachable
from ivr.content.keywords import RESERVED_KEYWORDS
from ivr.content.model import (
    KEYPAD,
    Confirm,
    Content,
    Entry,
    Menu,
    Message,
    Node,
    Option,
    Steps,
    keyword_menu,
    placeholders,
)
from ivr.content.model import association_written as written
from ivr.content.outline import utterances

KEY_PLACEHOLDERS = frozenset(
    {"key_repeat", "key_main_menu", "key_back", "key_slow", "key_next", "key_spell", "key_text_me"}
)
# {mobile_end} is the end of the home's registered mobile, {reason} an escalation's reason.
# {association} and {association_contact}: the care association's name and how to reach it (settings).
NODE_PLACEHOLDERS = KEY_PLACEHOLDERS | {
    "helpdesk", "mobile", "ticket", "mobile_end", "reason", "association", "association_contact", "callback",
}  # fmt: skip
ODS_PLACEHOLDERS = frozenset({"ods", "mailbox"})
HOME_PLACEHOLDERS = frozenset({"home"})  # a Message's say_with_home: the home's name
CANDIDATE_PLACEHOLDERS = frozenset({"candidate"})  # a Confirm's read-back
CANDIDATE_NAME_PLACEHOLDERS = frozenset({"candidate", "candidate_name"})
PHRASE_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "option": frozenset({"label", "key"}),
    "reprompt_wrong": frozenset({"key"}),
    "reprompt_choices": frozenset({"choices"}),
    "step_position": frozenset({"number", "total"}),
    "pushback": frozenset({"they_say", "you_say"}),
    "roleplay_suggested": frozenset({"you_say"}),
    "say_first": frozenset({"first", "second", "third"}),
    "spell_ods": frozenset({"nato", "mailbox_spelled"}),
    "nato_letter": frozenset({"char", "word"}),
    "nato_digit": frozenset({"char"}),
    "notice": frozenset({"notice"}),
    "association_phone": frozenset({"phone"}),
    "association_email": frozenset({"email"}),
}
SMS_PLACEHOLDERS = frozenset({"ods", "mailbox", "helpdesk", "association"})
# Only in texts about an escalation, never in one a keyword can bring back (no ticket is known then).
ESCALATION_SMS_PLACEHOLDERS = frozenset({"ticket", "reason", "home", "callback"})
# Only in a text no keyword brings back (HELP): the list of keywords, built from the templates.
KEYWORD_LIST_PLACEHOLDERS = frozenset({"keywords"})
LONGEST_ODS = "VXXXX"
LONGEST_MAILBOX = "x" * speech.MAILBOX_LIMIT
LONGEST_TICKET = "9" * 15
LONGEST_CALLBACK = "0" * 11  # a UK number as keyed: 01522123456
HOME_NAME_LIMIT = 100  # a home's name is cut to this in a text, so the segment budget holds
LONGEST_HOME = "X" * HOME_NAME_LIMIT + ", " + LONGEST_ODS
# The care association's contact in a text, at the longest the settings allow (IVR_ASSOCIATION_*).
ASSOCIATION_NAME_LIMIT = 40
ASSOCIATION_EMAIL_LIMIT = 50
LONGEST_ASSOCIATION_PHONE = "01234 567890"
# A sentence longer than this is hard to follow by ear: split it. Counted as spoken, with the
# placeholders filled (the helpdesk number is ten words, a spelled mailbox a dozen).
MAX_SENTENCE_WORDS = 20
EXAMPLE_ODS = "VL15A"
EXAMPLE_HOME = "Lindum House"
EXAMPLE_ASSOCIATION_EMAIL = "digital.team@nhs.net"
# Capitals run together are read as a word ("NHSmail" as "en-aitch smail"): write letters apart.
RUN_TOGETHER = re.compile(r"\b[A-Z]{2,}[a-z]*\b")
SAID_AS_WORDS = frozenset({"START", "STOP"})  # keywords a caller is told to text, read as words


def check_graph(content: Content, origin: dict[str, str]) -> list[str]:
    problems: list[str] = []

    def where(node_id: str) -> str:
        return f"{origin.get('nodes.' + node_id, '?')}: node '{node_id}'"

    _check_keys(content, problems)
    _check_meta(content, problems)
    for node_id, node in content.nodes.items():
        _check_node(content, node, where(node_id), problems)
    for name, template in content.sms.items():
        _check_sms(content, name, template.body, template.max_segments, origin, problems)
    _check_keywords(content, origin, problems)
    problems += put_through_checks.check(content, origin, NODE_PLACEHOLDERS, _check_placeholders)  # put me through
    if not problems:
        _check_spoken(content, origin, problems)
    if not problems:
        _check_reachable(content, where, problems)
        _check_ways_out(content, where, problems)
    return problems


def _check_keys(content: Content, problems: list[str]) -> None:
    for label, keys in (("menu", content.keys.menu_keys()), ("step", content.keys.step_keys())):
        values = list(keys.values())
        clashes = sorted({key for key in values if values.count(key) > 1})
        if clashes:
            problems.append(f"[keys]: the {label} keys must differ, but {', '.join(clashes)} is used twice")
    for name, text in content.phrases.model_dump().items():
        allowed = PHRASE_PLACEHOLDERS.get(name, frozenset()) | KEY_PLACEHOLDERS | {"helpdesk"}
        _check_placeholders(f"[phrases]: field '{name}'", text, allowed, problems)


def _check_meta(content: Content, problems: list[str]) -> None:
    meta = content.meta
    for field in ("start", "main_menu", "fallback", "text_me"):
        target = getattr(meta, field)
        if target not in content.nodes:
            problems.append(f"[meta]: field '{field}': no node called '{target}'")
    if not isinstance(content.nodes.get(meta.main_menu), Menu | type(None)):
        problems.append(f"[meta]: field 'main_menu': node '{meta.main_menu}' must be a menu")
    if meta.default_sms not in content.sms:
        problems.append(f"[meta]: field 'default_sms': no sms template called '{meta.default_sms}'")
    text_me = content.nodes.get(meta.text_me)
    if text_me is not None and not (isinstance(text_me, Entry) and text_me.check == "uk_mobile"):
        problems.append(f"[meta]: field 'text_me': node '{meta.text_me}' must be an entry with check uk_mobile")


@dataclass(frozen=True)
class _NodeCheck:
    """What every node's checks share: the content, where the node is written, and the problems found so far."""

    content: Content
    where: str
    problems: list[str]

    def report(self, message: str) -> None:
        self.problems.append(f"{self.where}: {message}")

    def ref(self, field: str, target: str | None, table: Literal["nodes", "sms"] = "nodes") -> None:
        """A field naming another node or an sms template must name one that exists."""
        known = self.content.nodes if table == "nodes" else self.content.sms
        if target is not None and target not in known:
            kind = "node" if table == "nodes" else "sms template"
            self.report(f"field '{field}': no {kind} called '{target}'")

    def text(self, field: str, value: str | None, with_ods: bool = False, also: frozenset[str] = frozenset()) -> None:
        """Words said on a call may use only the placeholders known where they are said."""
        if value is not None:
            allowed = NODE_PLACEHOLDERS | (ODS_PLACEHOLDERS if with_ods else frozenset()) | also
            _check_placeholders(f"{self.where}: field '{field}'", value, allowed, self.problems)


def _check_node(content: Content, node: Node, where: str, problems: list[str]) -> None:
    check = _NodeCheck(content, where, problems)
    match node:
        case Menu():
            _check_menu(check, node)
        case Steps():
            _check_steps(check, node)
        case Entry():
            _check_entry(check, node)
        case Confirm():
            _check_confirm(check, node)
        case Message():
            _check_message(check, node)
        case _:
            assert_never(node)


def _check_menu(check: _NodeCheck, node: Menu) -> None:
    check.text("say", node.say)
    check.text("say_with_ods", node.say_with_ods, with_ods=True)
    check.text("say_after_steps", node.say_after_steps)
    seen: set[str] = set()
    for index, option in enumerate(node.options):
        _check_option(check, f"options.{index}", option, seen)
        seen.add(option.key)
    check.ref("fallback", node.fallback)


def _check_option(check: _NodeCheck, field: str, option: Option, seen: set[str]) -> None:
    """An option's key must be free on this menu (`seen`: the keys of the options before it) and on every menu."""
    reserved = {key: name for name, key in check.content.keys.menu_keys().items()}
    if option.key in reserved:
        check.report(f"field '{field}.key': '{option.key}' is reserved on every menu for '{reserved[option.key]}'")
    if option.key in seen:
        check.report(f"field '{field}.key': key '{option.key}' is used twice")
    if option.key not in KEYPAD:
        check.report(f"field '{field}.key': '{option.key}' is not a keypad key")
    check.text(f"{field}.label", option.label)
    check.ref(f"{field}.goto", option.goto)
    check.ref(f"{field}.goto_unregistered", option.goto_unregistered)
    check.ref(f"{field}.after", option.after)
    check.ref(f"{field}.sms", option.sms, "sms")


def _check_steps(check: _NodeCheck, node: Steps) -> None:
    for index, step in enumerate(node.steps):
        check.text(f"steps.{index}.say", step.say)
        check.text(f"steps.{index}.say_with_ods", step.say_with_ods, with_ods=True)
        check.text(f"steps.{index}.helpdesk", step.helpdesk)
        check.text(f"steps.{index}.reply", step.reply)
    for field, exchanges in (("opening", node.opening), ("closing", node.closing)):
        for index, exchange in enumerate(exchanges):
            check.text(f"{field}.{index}.helpdesk", exchange.helpdesk)
            check.text(f"{field}.{index}.reply", exchange.reply)
            check.text(f"{field}.{index}.reply_with_ods", exchange.reply_with_ods, with_ods=True)
            check.text(f"{field}.{index}.reply_with_home", exchange.reply_with_home, with_ods=True,
                       also=HOME_PLACEHOLDERS)  # fmt: skip
    check.text("title", node.title)
    check.ref("sms", node.sms, "sms")
    check.ref("then", node.then)
    check.ref("fallback", node.fallback)
    _check_scenario_number(check, node)
    _check_say_first(check, node)


SAY_FIRST_LINES = 3
SAY_FIRST_MAX_WORDS = 15  # about six seconds each: three things a caller can keep in mind


def _check_say_first(check: _NodeCheck, node: Steps) -> None:
    """A scenario has exactly three short things to say first; other steps have none."""
    if node.scenario is None:
        if node.say_first:
            check.report("field 'say_first': only a scenario has things to say first")
        return
    if len(node.say_first) != SAY_FIRST_LINES:
        check.report(f"field 'say_first': needs exactly {SAY_FIRST_LINES} lines, not {len(node.say_first)}")
    for index, line in enumerate(node.say_first):
        check.text(f"say_first.{index}", line)
        words = speech.word_count(line)
        if words > SAY_FIRST_MAX_WORDS:
            check.report(f"field 'say_first.{index}': {words} words; keep it to {SAY_FIRST_MAX_WORDS}")


def _check_scenario_number(check: _NodeCheck, node: Steps) -> None:
    """The caller hears "scenario N" and the counts are kept by N: no two scenarios may share one."""
    numbers = [n.scenario for n in check.content.nodes.values() if isinstance(n, Steps) and n.scenario]
    if node.scenario is not None and numbers.count(node.scenario) > 1:
        check.report(f"field 'scenario': number {node.scenario} is used by another scenario")


def _check_entry(check: _NodeCheck, node: Entry) -> None:
    check.text("say", node.say)
    check.text("invalid", node.invalid)
    check.ref("then", node.then)
    check.ref("fallback", node.fallback)
    check.ref("unmatched", node.unmatched)
    check.ref("too_many", node.too_many)
    check.ref("registered", node.registered)
    _check_entry_fields(check, node)


def _check_entry_fields(check: _NodeCheck, node: Entry) -> None:
    """The fields that only mean something for some checks."""
    nodes = check.content.nodes
    if node.speech and node.check not in ("ods_keys", "ods_exact"):
        check.report("field 'speech': only an ODS code entry can be spoken")
    if node.unmatched and node.check != "ods_keys":
        check.report("field 'unmatched': only an ods_keys entry can match nothing")
    if node.too_many and node.check != "ods_keys":
        check.report("field 'too_many': only an ods_keys entry can match too many homes")
    if node.registered:
        if node.check != "uk_mobile":
            check.report("field 'registered': only a uk_mobile entry offers the registered mobile")
        if not isinstance(nodes.get(node.registered), Menu | type(None)):
            check.report(f"field 'registered': node '{node.registered}' must be a menu")
    if node.check in ("ods_keys", "ods_exact") and not isinstance(nodes.get(node.then), Confirm | type(None)):
        check.report("field 'then': an ODS code entry leads to a confirm node, to read it back")


def _check_confirm(check: _NodeCheck, node: Confirm) -> None:
    check.text("say", node.say, also=CANDIDATE_PLACEHOLDERS)
    check.text("say_with_name", node.say_with_name, also=CANDIDATE_NAME_PLACEHOLDERS)
    check.ref("yes", node.yes)
    check.ref("none_left", node.none_left)
    check.ref("fallback", node.fallback)


def _check_message(check: _NodeCheck, node: Message) -> None:
    check.text("say", node.say)
    check.text("say_with_home", node.say_with_home, with_ods=True, also=HOME_PLACEHOLDERS)
    check.ref("then", node.then)
    check.ref("then_unknown", node.then_unknown)
    ways = [node.then is not None, node.resume, node.hangup]
    if sum(ways) != 1:
        check.report("needs exactly one of 'then', 'resume' or 'hangup' (a way to carry on)")
    if node.send_sms and node.escalate:
        check.report("a message may send a text or escalate, not both")


def _check_placeholders(where: str, text: str, allowed: frozenset[str], problems: list[str]) -> None:
    for name in placeholders(text):
        if name not in allowed:
            problems.append(f"{where}: unknown placeholder {{{name}}} (allowed here: {', '.join(sorted(allowed))})")
    if text.count("{") != text.count("}"):
        problems.append(f"{where}: unbalanced braces")


def _check_sms(
    content: Content, name: str, body: str, budget: int, origin: dict[str, str], problems: list[str]
) -> None:
    where = f"{origin.get('sms.' + name, '?')}: sms template '{name}'"
    before = len(problems)
    keyword_text = bool(content.sms[name].keywords)
    only_unasked = ESCALATION_SMS_PLACEHOLDERS | KEYWORD_LIST_PLACEHOLDERS
    allowed = SMS_PLACEHOLDERS | (frozenset() if keyword_text else only_unasked)
    _check_placeholders(f"{where}: field 'body'", body, allowed, problems)
    if len(problems) > before:
        return
    phrases = content.phrases
    reasons = (phrases.reason_refused, phrases.reason_leaver, phrases.reason_other)
    longest_name = max("X" * ASSOCIATION_NAME_LIMIT, phrases.association_unnamed, key=gsm7.septets)
    longest = body.format(
        ods=max(LONGEST_ODS, phrases.ods_unknown_sms, key=gsm7.septets),
        mailbox=max(LONGEST_MAILBOX, phrases.mailbox_unknown_sms, key=gsm7.septets),
        helpdesk=content.meta.helpdesk_number,
        ticket=LONGEST_TICKET,
        reason=max(reasons, key=gsm7.septets),
        home=max(LONGEST_HOME, phrases.home_unknown_sms, key=gsm7.septets),
        callback=max(LONGEST_CALLBACK, phrases.callback_unknown_sms, key=gsm7.septets),
        keywords=keyword_menu(content),
        association=written(content, longest_name, LONGEST_ASSOCIATION_PHONE, "x" * ASSOCIATION_EMAIL_LIMIT),
    )
    bad = gsm7.non_gsm7(longest)
    if bad:
        problems.append(f"{where}: field 'body': not GSM-7: {' '.join(repr(c) for c in bad)}")
        return
    counted = gsm7.count(longest)
    if counted.segments > budget:
        problems.append(
            f"{where}: field 'body': {counted.segments} segments at its longest "
            f"({counted.units} characters), over its budget of {budget}"
        )


def _check_keywords(content: Content, origin: dict[str, str], problems: list[str]) -> None:
    owners: dict[str, str] = {}
    for name, template in content.sms.items():
        at = f"{origin.get('sms.' + name, '?')}: sms template '{name}'"
        if template.keywords and not template.describes:
            problems.append(f"{at}: field 'describes': a text with keywords needs a few words for the HELP list")
        if template.follow_up is not None:
            second = content.sms.get(template.follow_up)
            if second is None:
                problems.append(f"{at}: field 'follow_up': no sms template called '{template.follow_up}'")
            elif second.follow_up is not None:
                problems.append(f"{at}: field 'follow_up': '{template.follow_up}' has a follow-up of its own; "
                                "a text comes as two at most")  # fmt: skip
        where = f"{at}: field 'keywords'"
        for word in template.keywords:
            if word in RESERVED_KEYWORDS:
                problems.append(f"{where}: {word} is reserved (STOP, START, HELP and the like)")
            elif word in owners:
                problems.append(f"{where}: {word} already brings back '{owners[word]}'")
            owners[word] = name


def _check_reachable(content: Content, where: Callable[[str], str], problems: list[str]) -> None:
    start = content.meta.start
    seen = reachable(content, start)
    for node_id in content.nodes:
        if node_id not in seen:
            problems.append(f"{where(node_id)}: cannot be reached from '{start}'")


def _check_ways_out(content: Content, where: Callable[[str], str], problems: list[str]) -> None:
    """A caller who never presses a key must be led, fallback by fallback, to a goodbye."""
    for node_id, start in content.nodes.items():
        if isinstance(start, Message):
            continue  # messages wait for nothing; the nodes they lead to are checked
        path = [node_id]
        current = node_id
        while True:
            node = content.nodes[current]
            if isinstance(node, Message):
                if node.hangup:
                    break
                if node.resume or node.then is None:
                    problems.append(f"{where(node_id)}: silence leads to '{current}', which resumes, not a goodbye")
                    break
                current = node.then
            else:
                current = fallback_of(content, node)
            if current in path:
                chain = " -> ".join([*path, current])
                problems.append(f"{where(node_id)}: silence loops and never says goodbye: {chain}")
                break
            path.append(current)


def spoken_texts(content: Content) -> Iterator[tuple[str, str]]:
    """Every text said aloud, with where it is written: prompts by node, an entry's answer to a wrong entry,
    phrases, terms, a scenario's things to say first, and the role-play's lines with each answer it may suggest."""
    phrases = content.phrases
    for name, text in phrases.model_dump().items():
        if not name.endswith("_sms"):
            yield f"[phrases]: field '{name}'", text
    for node_id, text in utterances(content):
        yield f"node '{node_id}'", text
    for node_id, node in content.nodes.items():
        if isinstance(node, Entry):
            yield f"node '{node_id}'", node.invalid
    for term_id, term in content.terms.items():
        yield f"term '{term_id}'", term.explain
    for node_id, node in content.scenarios():
        if len(node.say_first) == SAY_FIRST_LINES:
            first, second, third = node.say_first
            yield f"node '{node_id}'", phrases.say_first.replace("{first}", first).replace(
                "{second}", second
            ).replace("{third}", third)
        for exchange in (*node.opening, *node.pushbacks, *node.closing):  # as the role-play says them
            yield f"node '{node_id}'", exchange.helpdesk
            for reply in filter(None, (exchange.reply, exchange.reply_with_ods, exchange.reply_with_home)):
                yield f"node '{node_id}'", phrases.roleplay_suggested.replace("{you_say}", reply)


def example_values(content: Content) -> dict[str, str]:
    """Placeholders filled as a call would fill them, for judging how long a sentence sounds."""
    phrases = content.phrases
    mailbox = speech.mailbox_address(EXAMPLE_ODS)
    nato = speech.nato(EXAMPLE_ODS, phrases.nato_letter, phrases.nato_digit)
    values = speech.Placeholders(
        content.keys.step_keys(), content.meta.helpdesk_number, ods=EXAMPLE_ODS, mailbox=mailbox,
        mobile="07400123456", ticket="123456",
    ).all()  # fmt: skip
    reasons = (phrases.reason_refused, phrases.reason_leaver, phrases.reason_other)
    # The association's contact as a call says it, each part its own sentence (see engine.call).
    contact = " ".join([
        phrases.association_phone.format(phone=speech.digits_grouped(LONGEST_ASSOCIATION_PHONE)),
        phrases.association_email.format(email=speech.email_spoken(EXAMPLE_ASSOCIATION_EMAIL)),
    ])  # fmt: skip
    return values | {
        "mobile_end": speech.characters("456"), "reason": max(reasons, key=speech.word_count), "candidate": nato,
        "nato": nato, "mailbox_spelled": speech.spelled_address(mailbox), "choices": "1, 2, 3, 4 or 5",
        "association": phrases.association_unnamed, "association_contact": contact,
        "callback": speech.mobile_grouped("01522500500"), "home": EXAMPLE_HOME,
    }  # fmt: skip


def _check_spoken(content: Content, origin: dict[str, str], problems: list[str]) -> None:
    values = defaultdict(lambda: "X", example_values(content))
    for where, text in spoken_texts(content):
        if where.startswith("node "):
            where = f"{origin.get('nodes.' + where[6:-1], '?')}: {where}"
        elif where.startswith("term "):
            where = f"{origin.get('terms.' + where[6:-1], '?')}: {where}"
        said = text.format_map(values)
        for sentence in speech.sentences(said):
            words = speech.word_count(sentence)
            if words > MAX_SENTENCE_WORDS:
                over = f"a sentence of {words} words, over {MAX_SENTENCE_WORDS} for the ear"
                problems.append(f"{where}: {over}: split it: {sentence!r}")
        for word in sorted(set(RUN_TOGETHER.findall(text)) - SAID_AS_WORDS):
            spaced = " ".join(word[: len(word.rstrip("abcdefghijklmnopqrstuvwxyz"))])
            problems.append(f"{where}: {word!r} would be read as a word: write the letters apart ({spaced!r}...)")
