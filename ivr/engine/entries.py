"""Entries keyed or spoken (a mobile, an ODS code, a ticket number), and ODS codes read back to confirm."""

from __future__ import annotations

from ivr import speech
from ivr.content.model import Confirm, Entry
from ivr.engine import validators
from ivr.engine.call import Call
from ivr.phone import uk_callback, uk_mobile

# A caller will listen to a few read-backs of matching homes, not dozens: past this many, the
# code is keyed without ambiguity instead. (A national directory has keys that match 100 homes.)
MAX_CANDIDATES = 4


def prompt_entry(call: Call, node: Entry) -> None:
    call.say(node.say)
    call.ask("entry", spoken=node.speech)


def handle_entry(call: Call, node: Entry, digits: str) -> None:
    if "*" in digits:
        # Star starts the entry again: keep only what was keyed after the last one.
        digits = digits.rsplit("*", 1)[1]
        if not digits.strip("#"):
            call.say(call.content.phrases.entry_restart)
            call.prompt(node, full=True)
            return
    digits = digits.rstrip("#")
    if not digits:  # hash alone: the caller wants out of the entry
        call.back()
        return
    match node.check:
        case "uk_mobile":
            keep(call, node, "mobile", uk_mobile(digits, allow_crown_dependencies=call.crown_dependency_mobiles))
        case "callback":
            keep(call, node, "callback", uk_callback(digits))
        case "ticket_number":
            keep(call, node, "ticket", validators.ticket_number(digits))
        case "ods_exact":
            code = validators.ods_exact(digits)
            keep(call, node, "candidates", (code,) if code else None)
        case "ods_keys":
            found = validators.ods_candidates(digits, call.directory)
            if found == [] and node.unmatched:
                call.enter(node.unmatched)
            elif found and len(found) > MAX_CANDIDATES and node.too_many:
                call.enter(node.too_many)
            else:
                keep(call, node, "candidates", tuple(found) if found else None)


def handle_spoken(call: Call, node: Entry, text: str) -> None:
    """An ODS code said aloud: kept as the one candidate, which the caller confirms on the keypad."""
    code = speech.ods_from_speech(text)
    if code is None:  # the entry's own "invalid" speaks of keys; this was said
        call.retry(node, call.content.phrases.speech_unclear)
        return
    keep(call, node, "candidates", (code,))


def keep(call: Call, node: Entry, field: str, value: object) -> None:
    """Keep an entry's value and carry on, or re-ask when it did not pass its check."""
    if value is None:
        call.retry(node, node.invalid)
        return
    call.update(**{field: value})
    call.enter(node.then)


def prompt_confirm(call: Call, node: Confirm) -> None:
    home = call.directory.home(call.state.candidates[0]) if call.state.candidates else None
    if home and node.say_with_name:
        call.say(node.say_with_name, candidate_name=home.name)
    else:
        call.say(node.say)
    call.say(call.content.phrases.confirm_keys)
    call.ask("key")


def handle_confirm(call: Call, node: Confirm, key: str) -> None:
    """1 takes the candidate read back; 2 moves to the next, or on when none is left."""
    if key == call.content.keys.back:
        call.update(candidates=())
        call.back()
    elif key == "1" and call.state.candidates:
        ods = call.state.candidates[0]
        home = call.directory.home(ods)
        call.update(ods=ods, mailbox=home.mailbox_override if home else None, candidates=())
        call.enter(node.yes)
    elif key == "2":
        rest = call.state.candidates[1:]
        call.update(candidates=rest, attempts=0)
        if rest:
            call.prompt(node, full=True)
        else:
            call.enter(node.none_left)
    else:
        call.wrong_key(node, key)
