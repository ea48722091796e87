"""The checks of a put-through (prompts/put_through.toml), run with the whole graph's when content loads.

Its nodes are where they should be and of the right kind, its words use only the placeholders known
where they are said, the line's switches are not set by a content file, and the briefing before the
ring (a scenario's three things to say first) is short enough to hear in under 15 seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr import speech
from ivr.content.model import Content, Menu, Message, PutThrough

# The things to say first are heard between "putting you through" and the ring: short, or they are lost.
BRIEFING_SECONDS = 15
START_WITH = frozenset({"first", "second", "third"})
# Words a content file may not set: they are the line's settings (IVR_PUT_THROUGH, IVR_PUT_THROUGH_PRESS_OPTIONS).
LINE_SWITCHES = ("enabled", "press_options")

PlaceholderCheck = Callable[[str, str, frozenset[str], list[str]], None]


def check(
    content: Content, origin: dict[str, str], allowed: frozenset[str], placeholders: PlaceholderCheck
) -> list[str]:
    """Problems with the put-through section and its nodes; `allowed` are the placeholders a node may use."""
    problems: list[str] = []
    section = content.put_through
    stages = {nid: node for nid, node in content.nodes.items() if isinstance(node, Message) and node.put_through}
    if section is None:
        for node_id in stages:
            problems.append(f"{origin.get('nodes.' + node_id, '?')}: node '{node_id}': field 'put_through': "
                            "no file gives the [put_through] section")  # fmt: skip
        return problems
    where = f"{origin.get('put_through', '?')}: [put_through]"
    for switch in LINE_SWITCHES:
        if switch in section.model_fields_set:
            problems.append(f"{where}: field '{switch}': set by the line's settings, not by a content file")
    _check_nodes(content, section, where, problems)
    before = len(problems)
    for name, text in section.words.model_dump().items():
        extra = START_WITH if name == "start_with" else frozenset()
        placeholders(f"{where}: field 'words.{name}'", text, allowed | extra, problems)
    if len(problems) == before:  # the briefing can be filled in
        _check_briefing(content, section, where, problems)
    return problems


def _check_nodes(content: Content, section: PutThrough, where: str, problems: list[str]) -> None:
    nodes = content.nodes
    for field in ("dial", "text_offer", "refused", "connected", "not_connected"):
        target = getattr(section, field)
        if target not in nodes:
            problems.append(f"{where}: field '{field}': no node called '{target}'")
    dial = nodes.get(section.dial)
    if dial is not None and not (isinstance(dial, Message) and dial.put_through == "dial"):
        problems.append(f"{where}: field 'dial': node '{section.dial}' must be a message with put_through = \"dial\"")
    for field in ("text_offer", "connected", "not_connected"):
        node = nodes.get(getattr(section, field))
        if node is not None and not isinstance(node, Menu):
            problems.append(f"{where}: field '{field}': node '{getattr(section, field)}' must be a menu")


def _check_briefing(content: Content, section: PutThrough, where: str, problems: list[str]) -> None:
    """Each scenario's three things to say first, as said before the ring, fit in BRIEFING_SECONDS."""
    for _, scenario in content.scenarios():
        if len(scenario.say_first) != 3:
            continue  # reported by the scenario's own check
        first, second, third = scenario.say_first
        briefing = section.words.start_with.format(first=first, second=second, third=third)
        seconds = speech.seconds(briefing)
        if seconds >= BRIEFING_SECONDS:
            problems.append(f"{where}: field 'words.start_with': with scenario {scenario.scenario}'s things to say "
                            f"first it takes about {seconds:.0f} s; keep it under {BRIEFING_SECONDS} s")  # fmt: skip
