"""A home's "before you call" card: what to have by the phone when ringing the NHSmail Helpdesk, on one A4 page.

Everything on it comes from the directory and the content the running app loaded (the helpdesk number,
the steps of the call, each scenario's three things to say first), so the card says what callers hear.
Printed by the browser from print styles in console.css: no PDF library.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from ivr import speech
from ivr.console.blueprint import blueprint, current
from ivr.console.homes_page import home_or_404
from ivr.console.placeholders import fill_known
from ivr.content.model import Content, Steps
from ivr.homes.directory import Home

# The content's node that says what happens on the call and which options to press.
ON_THE_CALL = "on_the_call"
# Digits as words, so 0 and O, 1 and I cannot be mistaken on paper.
DIGIT_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
               "7": "seven", "8": "eight", "9": "nine"}  # fmt: skip


@dataclass(frozen=True)
class Card:
    home: Home
    spelled: tuple[tuple[str, str], ...]  # each character of the ODS code with its word: ("L", "Lima")
    helpdesk: str
    on_the_call: tuple[str, ...]
    scenarios: tuple[tuple[str, tuple[str, ...]], ...]  # each scenario's title and its three things to say first
    companion: str | None


def spelled(code: str) -> tuple[tuple[str, str], ...]:
    return tuple((char, speech.NATO.get(char, DIGIT_WORDS.get(char, char))) for char in code.upper())


def card_for(content: Content, home: Home, companion: str | None) -> Card:
    values = {f"key_{name}": key for name, key in content.keys.step_keys().items()}
    values.update(helpdesk=content.meta.helpdesk_number, ods=home.ods, mailbox=home.mailbox, home=home.name)

    def written(text: str) -> str:
        return fill_known(text, values)

    node = content.nodes.get(ON_THE_CALL)
    steps = (tuple(written(step.say_with_ods or step.say) for step in node.steps if step.say)
             if isinstance(node, Steps) else ())  # fmt: skip
    scenarios = tuple((node.title, tuple(written(line) for line in content.say_first(node.scenario or 0)))
                      for _, node in content.scenarios())  # fmt: skip
    return Card(home=home, spelled=spelled(home.ods), helpdesk=content.meta.helpdesk_number, on_the_call=steps,
                scenarios=scenarios, companion=companion)  # fmt: skip


@blueprint.get("/homes/<ref>/card")
def home_card(ref: str) -> str:
    console = current()
    card = card_for(console.content, home_or_404(ref), console.companion_number)
    return render_template("console/card.html", card=card, ref=ref)
