"""What callers hear: the phone tree as a page, and the notice of the day set, previewed and cleared.

Read from the content the running app loaded (never the files on disk, which a deploy may have changed
since), through the content's own model. The notice's preview is the engine's own first turn of a call
with that notice, so the words shown are the words a caller hears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import get_args

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr import gsm7, speech
from ivr.console.blueprint import blueprint, current
from ivr.console.placeholders import fill_known
from ivr.content.model import Confirm, Content, Entry, Menu, Message, Reason, Steps, reason_words
from ivr.engine import flow
from ivr.engine.turn import Say
from ivr.homes import notice as notices
from ivr.homes.directory import Association, InMemoryDirectory
from ivr.operators import audit
from ivr.texts.compose import compose

EXAMPLE_TICKET = "8123456"  # an escalation's texts are counted with a ticket of the usual length


@dataclass(frozen=True)
class MenuView:
    id: str
    say: str
    options: tuple[tuple[str, str, str], ...]  # key, label, the node it goes to


@dataclass(frozen=True)
class StepsView:
    id: str
    title: str
    scenario: int | None
    steps: tuple[str, ...]
    pushbacks: tuple[tuple[str, str], ...]  # what the helpdesk may say, and the answer
    say_first: tuple[str, ...]
    text: str  # the text a "text me" here sends


@dataclass(frozen=True)
class TextView:
    name: str
    body: str
    encoding: str
    characters: int
    segments: int
    max_segments: int
    follow_up: str | None


@dataclass(frozen=True)
class Tree:
    menus: tuple[MenuView, ...]
    scenarios: tuple[StepsView, ...]
    other_steps: tuple[StepsView, ...]
    prompts: tuple[tuple[str, str, str], ...]  # other nodes: id, kind, what is said
    texts: tuple[TextView, ...]


def tree(content: Content, association: Association) -> Tree:
    values = {f"key_{name}": speech.key_name(key) for name, key in content.keys.step_keys().items()}
    values["helpdesk"] = speech.digits_grouped(content.meta.helpdesk_number)

    def said(text: str) -> str:
        return fill_known(text, values)

    menus: list[MenuView] = []
    scenarios: list[StepsView] = []
    other_steps: list[StepsView] = []
    prompts: list[tuple[str, str, str]] = []
    for node_id, node in content.nodes.items():
        if isinstance(node, Menu):
            options = tuple((o.key, o.label, o.goto) for o in node.options)
            menus.append(MenuView(node_id, said(node.say), options))
        elif isinstance(node, Steps):
            told = tuple(said(step.say) for step in node.steps if step.say)
            view = StepsView(node_id, node.title, node.scenario, told,
                             tuple((said(p.helpdesk), said(p.reply)) for p in node.pushbacks),
                             tuple(said(line) for line in node.say_first), node.sms)  # fmt: skip
            (scenarios if node.scenario else other_steps).append(view)
        elif isinstance(node, Entry | Confirm | Message):
            prompts.append((node_id, node.kind, said(node.say)))
    reason = max(get_args(Reason), key=lambda name: len(reason_words(content, name)))
    texts = []
    for name, template in content.sms.items():
        body = compose(content, name, ods=None, ticket=EXAMPLE_TICKET, reason=reason, association=association)
        counted = gsm7.count(body)
        texts.append(TextView(name, body, counted.encoding, counted.units, counted.segments, template.max_segments,
                              template.follow_up))  # fmt: skip
    scenarios.sort(key=lambda view: view.scenario or 0)
    return Tree(tuple(menus), tuple(scenarios), tuple(other_steps), tuple(prompts), tuple(texts))


@dataclass(frozen=True)
class Preview:
    text: str  # the notice as it is kept: spaces made single
    heard: str  # the sentence the caller hears, with the content's words around the notice
    opening: tuple[str, ...]  # everything said in the call's first turn, in order
    seconds: float


def preview(content: Content, association: Association, text: str) -> Preview:
    """The words of a call's first turn with this notice, as the engine says them."""
    kept = " ".join(text.split())
    turn, _state = flow.start(content, InMemoryDirectory(), notice=kept, association=association)
    opening = tuple(step.text for step in turn if isinstance(step, Say))
    heard = next((line for line in opening if kept in line), kept)
    return Preview(kept, heard, opening, round(speech.seconds(heard), 1))


@blueprint.get("/phone-tree")
def phone_tree() -> str:
    console = current()
    return render_template("console/tree.html", tree=tree(console.content, console.association),
                           meta=console.content.meta, keys=console.content.keys)  # fmt: skip


@blueprint.route("/notice", methods=["GET", "POST"])
def notice() -> str | BaseResponse | tuple[str, int]:
    """Preview a notice (changes nothing), or set it: said after the greeting from the next call on."""
    console = current()
    today = notices.current(console.store)
    text = request.form.get("text", "")
    until_text = request.form.get("until", "").strip()
    problem = None
    shown = None
    if request.method == "POST":
        until = None
        try:
            until = date.fromisoformat(until_text) if until_text else None
        except ValueError:
            problem = "The last day is not a date: choose one, or leave it empty."
        problem = problem or notices.problem(text, until)
        if problem:
            problem = problem.replace("--until", "The last day").capitalize().rstrip(".") + "."
        elif request.form.get("action") == "set":
            saved = notices.set_notice(console.store, text, until)
            audit.record(console.store, g.user, "set", "the notice" + (f" until {until:%d %b %Y}" if until else ""))
            flash("The notice is set: callers hear it from the next call on"
                  + (f", until the end of {until:%-d %B %Y}." if until else ", until you clear it.")
                  + f" ({len(saved.text.split())} words)")  # fmt: skip
            return redirect(url_for("console.notice"))
        else:
            shown = preview(console.content, console.association, text)
    current_preview = preview(console.content, console.association, today.text) if today else None
    page = render_template("console/notice.html", today=today, current_preview=current_preview, shown=shown,
                           text=text, until=until_text, problem=problem, max_words=notices.MAX_WORDS)  # fmt: skip
    return page, 400 if problem else 200


@blueprint.post("/notice/clear")
def clear_notice() -> BaseResponse:
    store = current().store
    if notices.clear(store):
        audit.record(store, g.user, "cleared", "the notice")
        flash("The notice is cleared: the next call hears none.")
    else:
        flash("There was no notice to clear.")
    return redirect(url_for("console.notice"))
