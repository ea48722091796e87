"""`ivr audio export`: every prompt as a WAV file, with a manifest, to listen to anywhere and review by ear.

Files come from the speech cache, so a second export renders nothing and an edited prompt
renders only itself. Placeholders are filled with example details, the way the engine
fills them on a call, so each file sounds as the prompt does on the phone.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr import speech
from ivr.content import roleplay
from ivr.content.model import Content
from ivr.content.outline import utterances
from ivr.engine.call import association_values
from ivr.homes.directory import Association
from ivr.rehearsal.synthesis import RehearsalVoice, Synthesizer, Voices, wav_seconds

EXAMPLE_ODS = "VL15A"  # the README's example code; personalised prompts are heard with it
EXAMPLE_MOBILE = "07400123456"  # a valid-format mobile outside Ofcom's drama range
EXAMPLE_HOME = "Meadow View Care Home"  # a made-up name, for the greeting and read-backs
MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class Prompt:
    node: str
    text: str
    voice: RehearsalVoice


@dataclass(frozen=True)
class Exported:
    files: int
    rendered: int  # files synthesised now; the rest came from the cache
    seconds: float  # of speech in all


def prompts(
    content: Content, voices: Voices, ods: str = EXAMPLE_ODS, association: Association | None = None
) -> Iterator[Prompt]:
    """Every prompt of the call, then each scenario's role-play lines in their own voices.

    `association` is the care association as configured, so its name and contact are heard as on a call.
    """
    values = speech.Placeholders(
        content.keys.step_keys(),
        content.meta.helpdesk_number,
        ods=ods,
        mailbox=speech.mailbox_address(ods),
        mobile=EXAMPLE_MOBILE,
        ticket="123456",
    ).all()
    phrases = content.phrases
    values |= {
        "mobile_end": speech.characters(EXAMPLE_MOBILE[-3:]),
        "reason": phrases.reason_refused,
        "candidate": speech.nato(ods, phrases.nato_letter, phrases.nato_digit),
        "candidate_name": EXAMPLE_HOME,
        "home": EXAMPLE_HOME,
        "callback": speech.mobile_grouped(EXAMPLE_MOBILE),
    } | association_values(content, association or Association())
    for node_id, text in utterances(content):
        yield Prompt(node_id, " ".join(text.format(**values).split()), voices.companion)
    for node_id, node in content.scenarios():
        for beat in roleplay.script(content, node.scenario or 0):
            if isinstance(beat, roleplay.Cue):
                voice = voices.helpdesk if beat.who == "helpdesk" else voices.companion
                yield Prompt(f"{node_id}.roleplay", beat.text, voice)


def export(
    items: list[Prompt],
    directory: Path,
    synthesizer: Synthesizer,
    advance: Callable[[Prompt], None] = lambda prompt: None,
) -> Exported:
    """Write one WAV per prompt into `directory`, named by node, and the manifest (node, text, file, seconds)."""
    directory.mkdir(parents=True, exist_ok=True)
    before = synthesizer.rendered
    rows: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    total = 0.0
    for prompt in items:
        counts[prompt.node] = counts.get(prompt.node, 0) + 1
        name = f"{prompt.node}-{counts[prompt.node]:02d}.wav"
        cached = synthesizer.render(prompt.text, prompt.voice)
        shutil.copyfile(cached, directory / name)
        seconds = wav_seconds(cached)
        total += seconds
        voice = f"{prompt.voice.name} at {prompt.voice.rate}"
        row = {"node": prompt.node, "file": name, "seconds": f"{seconds:.2f}", "voice": voice, "text": prompt.text}
        rows.append(row)
        advance(prompt)
    _remove_stale(directory, {row["file"] for row in rows})
    with (directory / MANIFEST).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["node", "file", "seconds", "voice", "text"])
        writer.writeheader()
        writer.writerows(rows)
    return Exported(files=len(rows), rendered=synthesizer.rendered - before, seconds=total)


def _remove_stale(directory: Path, keep: set[str]) -> None:
    """Files of prompts that no longer exist, as listed by the last manifest; nothing else is touched."""
    manifest = directory / MANIFEST
    if not manifest.exists():
        return
    with manifest.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = row.get("file") or ""
            if name and name not in keep and Path(name).name == name:
                (directory / name).unlink(missing_ok=True)
