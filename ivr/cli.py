"""`ivr`: the companion's command line. Errors a person can cause get one clear line each, not a traceback."""

from __future__ import annotations

import re
import sys
import time
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ivr.content import Content, ContentError, load
from ivr.directory import InMemoryDirectory
from ivr.outline import mermaid, outline, summarise
from ivr.rehearse import Line, Rehearsal, ScriptedKeypad, TerminalKeypad, transcript
from ivr.settings import Settings

ODS_PATTERN = re.compile(r"^V[A-Z0-9]{4}$")


def _content(prompts: Path | None) -> Content:
    directory = prompts or Settings().prompts_dir
    try:
        return load(directory)
    except ContentError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1) from None


def _ods(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if not ODS_PATTERN.match(code):
        raise click.BadParameter(f"{value!r} is not an ODS code: a V and four letters or digits, e.g. VL15A")
    return code


prompts_option = click.option(
    "--prompts",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of content files (default: IVR_PROMPTS_DIR or the repo's prompts/).",
)


@click.group()
def main() -> None:
    """The NHSmail helpdesk phone companion for care homes."""


@main.command()
@prompts_option
@click.option("--keys", "script", help='Keys to press, space-separated; "t" is silence. Prints the transcript.')
@click.option("--ods", help="The home's ODS code, to hear the read-back personalised.")
@click.option("--slow", is_flag=True, help="Start in slow mode.")
@click.option("--mute", is_flag=True, help="Text only, no speech (the only mode until speech arrives).")
def rehearse(prompts: Path | None, script: str | None, ods: str | None, slow: bool, mute: bool) -> None:
    """Practise the call at the terminal, the keyboard standing in for the keypad."""
    content = _content(prompts)
    code = _ods(ods)
    directory = InMemoryDirectory()
    if script is not None:
        lines = Rehearsal(content, directory, ods=code, slow=slow).run(ScriptedKeypad(script))
        click.echo(transcript(lines))
        return
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to read keys from: give --keys to run a scripted rehearsal")
    console = Console(highlight=False)
    styles = {"companion": "bold cyan", "caller": "yellow", "text": "green", "end": "bold"}

    def show(line: Line) -> None:
        console.print(f"[{styles[line.who]}]{escape(line.text)}[/]")

    keypad = TerminalKeypad(lambda notice: console.print(f"[dim]{escape(notice)}[/]"))
    Rehearsal(content, directory, show, ods=code, slow=slow).run(keypad)


@main.command()
@prompts_option
def check(prompts: Path | None) -> None:
    """Check the content: load every file and the whole phone tree; exit non-zero on any problem."""
    began = time.perf_counter()
    content = _content(prompts)
    elapsed = time.perf_counter() - began
    summary = summarise(content)
    click.echo(
        f"ok: {summary.nodes} nodes, {summary.scenarios} scenarios, {len(content.sms)} texts, "
        f"{summary.words} words; longest prompt '{summary.longest_node}' "
        f"about {summary.longest_seconds:.0f} s of speech; checked in {elapsed * 1000:.0f} ms"
    )
    age = (date.today() - content.meta.reviewed_on).days
    if age > Settings().content_max_age_days:
        click.echo(
            f"warning: the content was last reviewed on {content.meta.reviewed_on} ({age} days ago); "
            "check it against the helpdesk's current process and update [meta] reviewed_on",
            err=True,
        )


@main.command()
@prompts_option
@click.option("--mermaid", "as_mermaid", is_flag=True, help="A Mermaid flowchart instead of an outline.")
def tree(prompts: Path | None, as_mermaid: bool) -> None:
    """Show the phone tree."""
    content = _content(prompts)
    click.echo(mermaid(content) if as_mermaid else outline(content))


def _register_phone_commands() -> None:
    from ivr.cli_phone import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_register_phone_commands()
