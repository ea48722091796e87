"""Navigating the content's tree: where a node leads, and the places derived from it when content loads.

Nothing here judges the graph; `checks.py` does, walking these same edges.
"""

from __future__ import annotations

from collections import deque

from ivr.content.model import Confirm, Content, Entry, Interactive, Menu, Message, Steps


def fallback_of(content: Content, node: Interactive) -> str:
    """Where a caller goes once silence or wrong keys have used up a node's retries."""
    return node.fallback or content.meta.fallback


def forward(node: Menu | Steps | Entry | Confirm | Message) -> list[str]:
    """Where a node leads by the caller's choices and its own flow, without silence or reserved keys."""
    if isinstance(node, Menu):
        return [target for option in node.options for target in (option.goto, option.goto_unregistered) if target]
    if isinstance(node, Confirm):
        return [node.yes, node.none_left]
    if isinstance(node, Entry):
        return [target for target in (node.then, node.unmatched, node.too_many, node.registered) if target]
    if isinstance(node, Message):
        return [target for target in (node.then, node.then_unknown) if target]
    return [node.then]


def edges(content: Content, node_id: str) -> list[str]:
    """Where a node can lead: the graph the reachability and way-out checks walk."""
    node = content.nodes[node_id]
    if isinstance(node, Message):
        return [*forward(node), *put_through_targets(content, node)]
    extra: list[str] = [fallback_of(content, node)]
    if isinstance(node, Menu):
        extra += [option.after for option in node.options if option.after]
    if isinstance(node, Steps):
        extra.append(content.meta.text_me)  # the "text me" key
    if not isinstance(node, Entry):
        extra.append(content.meta.main_menu)  # the main-menu key; an entry takes digits instead
    return [*forward(node), *extra]


def put_through_branches(content: Content, node: Message) -> list[tuple[str, str]]:
    """Where a put-through's stage may lead, and when: chosen by the engine, named in [put_through]."""
    section = content.put_through
    if section is None or node.put_through is None:
        return []
    if node.put_through == "prepare":
        return [("ready", node.then or section.dial), ("no mobile known yet", section.text_offer),
                ("cannot be put through", section.refused)]  # fmt: skip
    if node.put_through == "text":
        return [("for a mobile", content.meta.text_me), ("once texted", node.then or section.dial)]
    return [("back from the helpdesk", section.connected), ("busy, no answer or failed", section.not_connected),
            ("cannot be put through", section.refused)]  # fmt: skip


def put_through_targets(content: Content, node: Message) -> list[str]:
    return [target for _, target in put_through_branches(content, node)]


def reachable(content: Content, start: str) -> set[str]:
    """Every node a caller can get to from `start`, by any key, silence included."""
    seen = {start}
    queue = deque([start])
    while queue:
        for target in edges(content, queue.popleft()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def text_flow(content: Content) -> frozenset[str]:
    """The "text me" nodes: from the mobile entry up to the message that sends the text."""
    flow: set[str] = set()
    queue = deque([content.meta.text_me])
    while queue:
        node_id = queue.popleft()
        if node_id in flow:
            continue
        flow.add(node_id)
        node = content.nodes[node_id]
        if isinstance(node, Menu):
            queue.extend(option.goto for option in node.options)
        elif isinstance(node, Entry):
            queue.extend(target for target in (node.then, node.registered) if target)
        elif isinstance(node, Message) and node.then and not node.send_sms:
            queue.append(node.then)
    return frozenset(flow)


def escalation_flow(content: Content) -> frozenset[str]:
    """The nodes between a ticket number's entry and the message that sends the escalation.

    They need the ticket (and the reason) the caller gave: once those are forgotten, "back"
    must not return into them.
    """
    starts = [nid for nid, node in content.nodes.items() if isinstance(node, Entry) and node.check == "ticket_number"]
    flow: set[str] = set()
    queue = deque(starts)
    while queue:
        node_id = queue.popleft()
        node = content.nodes[node_id]
        if node_id in flow or (isinstance(node, Message) and node.escalate):
            continue
        flow.add(node_id)
        queue.extend(forward(node))
    return frozenset(flow)
