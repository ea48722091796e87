"""Loading `prompts/*.toml` into the content model, then checking the whole graph.

Each file is read, each section validated with pydantic (frozen models, unknown keys
rejected), and every problem reported as one line naming the file, the node and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ivr.content.checks import check_graph
from ivr.content.graph import escalation_flow, text_flow
from ivr.content.model import Content, Meta, Node, Phrases, PutThrough, ReservedKeys, SmsTemplate, Strict, Term


class ContentError(Exception):
    """Content that cannot be used; `problems` holds one clear line per fault."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _NodeAdapter(Strict):
    node: Node


SINGLE_SECTIONS: dict[str, type[BaseModel]] = {"meta": Meta, "keys": ReservedKeys, "phrases": Phrases}
# Sections a line may do without: with no [put_through], the line never puts a caller through.
OPTIONAL_SECTIONS: dict[str, type[BaseModel]] = {"put_through": PutThrough}
TABLE_SECTIONS = {"nodes", "sms", "terms"}


def load(directory: Path) -> Content:
    """Load and check every `*.toml` file in `directory`; raise ContentError listing every problem."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ContentError([f"{directory}: no .toml files found"])
    problems: list[str] = []
    single: dict[str, tuple[str, Any]] = {}
    nodes: dict[str, Any] = {}
    sms: dict[str, Any] = {}
    terms: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            problems.append(f"{path.name}: not valid TOML: {error}")
            continue
        for section, value in data.items():
            if section in SINGLE_SECTIONS or section in OPTIONAL_SECTIONS:
                if section in single:
                    problems.append(f"{path.name}: [{section}] is already given in {single[section][0]}")
                else:
                    single[section] = (path.name, value)
            elif section in TABLE_SECTIONS and isinstance(value, dict):
                into = {"nodes": nodes, "sms": sms, "terms": terms}[section]
                _parse_tables(path.name, section, value, into, origin, problems)
            else:
                allowed = ", ".join(sorted([*SINGLE_SECTIONS, *OPTIONAL_SECTIONS, *TABLE_SECTIONS]))
                problems.append(f"{path.name}: unknown section [{section}] (allowed: {allowed})")
    parsed: dict[str, Any] = {}
    for section, model in (SINGLE_SECTIONS | OPTIONAL_SECTIONS).items():
        if section not in single:
            if section in SINGLE_SECTIONS:
                problems.append(f"{directory}: no file gives the [{section}] section")
            continue
        filename, value = single[section]
        if section in OPTIONAL_SECTIONS:
            origin[section] = filename  # the checks name the file
        try:
            parsed[section] = model.model_validate(value)
        except ValidationError as error:
            problems.extend(_describe(filename, f"[{section}]", error))
    if problems:
        raise ContentError(problems)
    content = Content(
        meta=parsed["meta"],
        keys=parsed["keys"],
        phrases=parsed["phrases"],
        nodes=nodes,
        sms=sms,
        terms=terms,
        files=tuple(path.name for path in files),
        put_through=parsed.get("put_through"),
    )
    problems = check_graph(content, origin)
    if problems:
        raise ContentError(problems)
    return content.model_copy(update={"text_flow": text_flow(content), "escalation_flow": escalation_flow(content)})


def _parse_tables(
    filename: str,
    section: str,
    tables: dict[str, Any],
    into: dict[str, Any],
    origin: dict[str, str],
    problems: list[str],
) -> None:
    for name, value in tables.items():
        where = f"{section}.{name}"
        if where in origin:
            problems.append(f"{filename}: [{where}] is already defined in {origin[where]}")
            continue
        origin[where] = filename
        try:
            if section == "nodes":
                if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                    problems.append(f"{filename}: node '{name}': ids are lower case letters, digits and _")
                    continue
                into[name] = _NodeAdapter.model_validate({"node": value}).node
            elif section == "terms":
                into[name] = Term.model_validate(value)
            else:
                into[name] = SmsTemplate.model_validate(value)
        except ValidationError as error:
            label = {"nodes": f"node '{name}'", "sms": f"sms template '{name}'", "terms": f"term '{name}'"}[section]
            problems.extend(_describe(filename, label, error, strip_first="node" if section == "nodes" else None))


def _describe(filename: str, label: str, error: ValidationError, strip_first: str | None = None) -> list[str]:
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        if strip_first and loc and loc[0] == strip_first:
            loc = loc[1:]
        # The discriminated union adds the kind's name to the path: it says nothing to an editor.
        if loc and loc[0] in {"menu", "steps", "entry", "confirm", "message"}:
            loc = loc[1:]
        field = ".".join(loc) or "(whole entry)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        elif item["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            field, message = "kind", "must be one of: menu, steps, entry, confirm, message"
        lines.append(f"{filename}: {label}: field '{field}': {message}")
    return lines
