"""Views of the content for its editors: the spoken texts, a summary, and the phone tree."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ivr import speech
from ivr.content.graph import fallback_of, put_through_branches
from ivr.content.model import Confirm, Content, Entry, Menu, Message, Steps


def utterances(content: Content) -> Iterator[tuple[str, str]]:
    """Every prompt as it is spoken on arrival, by node: a menu with its choices, each step alone."""
    phrases = content.phrases
    for node_id, node in content.nodes.items():
        if isinstance(node, Menu):
            choices = [phrases.option.format(label=o.label, key=speech.key_name(o.key)) for o in node.options]
            for intro in filter(None, (node.say, node.say_with_ods, node.say_after_steps)):
                yield node_id, " ".join([intro, *choices])
        elif isinstance(node, Steps):
            yield node_id, node.title
            for step in node.steps:
                if step.helpdesk and step.reply:
                    yield node_id, phrases.pushback.format(they_say=step.helpdesk, you_say=step.reply)
                for text in filter(None, (step.say, step.say_with_ods)):
                    yield node_id, text
        elif isinstance(node, Confirm):
            for text in filter(None, (node.say, node.say_with_name)):
                yield node_id, f"{text} {phrases.confirm_keys}"
        elif isinstance(node, Message):
            for text in filter(None, (node.say, node.say_with_home)):
                yield node_id, text
        else:
            yield node_id, node.say


@dataclass(frozen=True)
class Summary:
    nodes: int
    scenarios: int
    words: int
    longest_node: str
    longest_seconds: float


def summarise(content: Content) -> Summary:
    texts = list(utterances(content))
    longest_node, longest_text = max(texts, key=lambda item: speech.word_count(item[1]))
    return Summary(
        nodes=len(content.nodes),
        scenarios=len(content.scenarios()),
        words=sum(speech.word_count(text) for _, text in texts),
        longest_node=longest_node,
        longest_seconds=speech.seconds(longest_text),
    )


def _kind(content: Content, node_id: str) -> str:
    node = content.nodes[node_id]
    if isinstance(node, Steps) and node.scenario:
        return f"scenario {node.scenario}, {len(node.steps)} steps, {len(node.pushbacks)} of them push-backs"
    if isinstance(node, Steps):
        return f"{len(node.steps)} steps"
    return node.kind


@dataclass(frozen=True)
class Edge:
    label: str
    target: str
    silence: bool = False  # taken when the caller says nothing (or keeps missing), not by a choice


def _silence(content: Content, node: Menu | Steps | Entry | Confirm) -> Edge:
    """Where silence truly leads, and after how much of it."""
    target = fallback_of(content, node)
    if isinstance(node, Steps):
        waits = content.meta.steps_waits
        minutes = (content.meta.key_timeout_seconds + (waits - 1) * content.meta.steps_wait_seconds) / 60
        return Edge(f"{waits} silences, about {minutes:.0f} minutes", target, silence=True)
    cap = node.retry_cap or content.meta.retry_cap
    if cap == 1:
        missed = "a silence or a wrong key" if isinstance(node, Menu | Confirm) else "a silence or a wrong entry"
    else:
        missed = f"{cap} silences or wrong {'keys' if isinstance(node, Menu | Confirm) else 'entries'}"
    return Edge(missed, target, silence=True)


def edges(content: Content, node_id: str) -> list[Edge]:
    """Every way on from a node, each with what takes it. 9 (back) and 0 (the main menu) are left
    out: they work everywhere, back to wherever the caller came from."""
    node = content.nodes[node_id]
    found: list[Edge] = []
    if isinstance(node, Menu):
        for option in node.options:
            found.append(Edge(option.key, option.goto))
            if option.goto_unregistered:
                unknown = f"{option.key}, on a call from a number not in the directory"
                found.append(Edge(unknown, option.goto_unregistered))
            if option.after:
                found.append(Edge(f"{option.key}, once the text is sent", option.after))
    elif isinstance(node, Steps):
        found.append(Edge(f"{content.keys.next} after the last step", node.then))
        found.append(Edge(f"{content.keys.text_me}, text me these steps", content.meta.text_me))
    elif isinstance(node, Entry):
        found.append(Edge("a valid entry", node.then))
        if node.unmatched:
            found.append(Edge("keys that match no home", node.unmatched))
        if node.too_many:
            found.append(Edge("keys that match too many homes", node.too_many))
        if node.registered:
            found.append(Edge("first, on a call from a home's registered landline", node.registered))
    elif isinstance(node, Confirm):
        found += [Edge("1", node.yes), Edge("2 to the last one", node.none_left)]
    elif node.put_through:  # put me through: the engine picks the way on
        found += [Edge(label, target) for label, target in put_through_branches(content, node)]
    elif node.then:
        found.append(Edge("then", node.then))
    if isinstance(node, Message) and node.then_unknown:
        found.append(Edge("then, when the caller's home is not known", node.then_unknown))
    if not isinstance(node, Message):
        found.append(_silence(content, node))
    return found


def _notes(node: Menu | Steps | Entry | Confirm | Message) -> str:
    if not isinstance(node, Message):
        return ""
    notes = " [ends the call]" if node.hangup else ""
    notes += " [returns to where the caller was]" if node.resume else ""
    notes += " [sends the text]" if node.send_sms else ""
    notes += " [sends the escalation]" if node.escalate else ""
    return notes


LEGEND = (
    "Not drawn, everywhere: 9 goes back to the menu heard last (in steps, the step before), 0 to the main menu,"
    " * repeats; in an entry, hash alone goes back."
)


def outline(content: Content) -> str:
    """The tree as an indented outline from the start; a node met again is named, not expanded."""
    lines: list[str] = []
    seen: set[str] = set()

    def walk(node_id: str, label: str, depth: int) -> None:
        indent = "  " * depth
        prefix = f"{label} -> " if label else ""
        if node_id in seen:
            lines.append(f"{indent}{prefix}{node_id} (see above)")
            return
        seen.add(node_id)
        node = content.nodes[node_id]
        lines.append(f"{indent}{prefix}{node_id} ({_kind(content, node_id)}){_notes(node)}")
        for edge in edges(content, node_id):
            walk(edge.target, edge.label, depth + 1)

    walk(content.meta.start, "", 0)
    for node_id in content.nodes:  # none, when the checks pass: every node is reached by some edge above
        if node_id not in seen:
            walk(node_id, "not reached from the start", 0)
    lines.append(LEGEND)
    return "\n".join(lines)


def mermaid(content: Content) -> str:
    lines = ["flowchart TD"]
    for node_id, node in content.nodes.items():
        title = f"{node_id}<br/>{_kind(content, node_id)}"
        shape = ("([", "])") if isinstance(node, Message) else ("[", "]")
        lines.append(f'    {node_id}{shape[0]}"{title}"{shape[1]}')
    for node_id in content.nodes:
        for edge in edges(content, node_id):
            arrow = "-.->" if edge.silence else "-->"
            lines.append(f'    {node_id} {arrow}|"{edge.label}"| {edge.target}')
    return "\n".join(lines)
