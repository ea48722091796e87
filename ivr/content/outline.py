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
            for intro in filter(None, (node.say, node.say_with_ods)):
                yield node_id, " ".join([intro, *choices])
        elif isinstance(node, Steps):
            for step in node.steps:
                for text in filter(None, (step.say, step.say_with_ods)):
                    yield node_id, text
            for pushback in node.pushbacks:
                yield node_id, phrases.pushback.format(they_say=pushback.helpdesk, you_say=pushback.reply)
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
        return f"scenario {node.scenario}, {len(node.steps)} steps, {len(node.pushbacks)} push-backs"
    if isinstance(node, Steps):
        return f"steps, {len(node.steps)}"
    return node.kind


def _branches(content: Content, node_id: str) -> list[tuple[str, str]]:
    node = content.nodes[node_id]
    if isinstance(node, Menu):
        return [(f"{o.key}", o.goto) for o in node.options]
    if isinstance(node, Steps):
        return [("after the last step", node.then)]
    if isinstance(node, Entry):
        return [("valid entry", node.then)]
    if isinstance(node, Message) and node.put_through:  # put me through: the engine picks the way on
        return put_through_branches(content, node)
    if isinstance(node, Message) and node.then:
        return [("then", node.then)]
    return []


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
        end = " [ends the call]" if isinstance(node, Message) and node.hangup else ""
        end += " [returns to where the caller was]" if isinstance(node, Message) and node.resume else ""
        lines.append(f"{indent}{prefix}{node_id} ({_kind(content, node_id)}){end}")
        for branch, target in _branches(content, node_id):
            walk(target, branch, depth + 1)

    walk(content.meta.start, "", 0)
    for node_id in content.nodes:  # the fallback path is reached by silence, not by a key
        if node_id not in seen:
            walk(node_id, "on silence", 0)
    return "\n".join(lines)


def mermaid(content: Content) -> str:
    lines = ["flowchart TD"]
    for node_id, node in content.nodes.items():
        title = f"{node_id}<br/>{_kind(content, node_id)}"
        shape = ("([", "])") if isinstance(node, Message) else ("[", "]")
        lines.append(f'    {node_id}{shape[0]}"{title}"{shape[1]}')
    for node_id in content.nodes:
        for branch, target in _branches(content, node_id):
            lines.append(f'    {node_id} -->|"{branch}"| {target}')
        node = content.nodes[node_id]
        if not isinstance(node, Message):
            lines.append(f"    {node_id} -.->|silence| {fallback_of(content, node)}")
    return "\n".join(lines)
