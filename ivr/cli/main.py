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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ivr.cli import setup
from ivr.content import roleplay
from ivr.content.loader import ContentError, load
from ivr.content.model import Content
from ivr.content.outline import mermaid, outline, summarise
from ivr.homes import notice as notice_store
from ivr.homes.directory import Directory, InMemoryDirectory
from ivr.homes.directory_store import StoreDirectory
from ivr.rehearsal import audio_export
from ivr.rehearsal.player import Player
from ivr.rehearsal.session import Keypad, Line, Rehearsal, RolePlay, ScriptedKeypad, TerminalKeypad, transcript
from ivr.rehearsal.speaker import Speaker
from ivr.rehearsal.synthesis import RehearsalVoice, SynthesisFailed, Synthesizer, Voices
from ivr.settings import Settings
from ivr.store.database import Store, StoreError

ODS_PATTERN = re.compile(r"^V[A-Z0-9]{4}$")


def _content(prompts: Path | None) -> Content:
    directory = prompts or setup.settings().prompts_dir
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


def _voices(settings: Settings) -> Voices:
    return Voices(
        companion=RehearsalVoice(settings.rehearsal_voice, settings.rehearsal_rate),
        slow=RehearsalVoice(settings.rehearsal_voice, settings.rehearsal_slow_rate),
        helpdesk=RehearsalVoice(settings.roleplay_helpdesk_voice, settings.rehearsal_rate),
    )


def operator_setup(settings: Settings) -> tuple[Directory, str | None]:
    """The directory of homes and the notice of the day the operator set up, as a call would find them.

    Only read, never created or upgraded: with no database yet (a laptop with no `ivr homes import`), or one
    that cannot be read, the rehearsal is a call to an empty directory with no notice, as before.
    """
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return InMemoryDirectory(), None
    try:
        store = Store(url)
        today = notice_store.current(store)
        directory = StoreDirectory(store)
        directory.homes_for_keys("0000")  # the directory's tables are there to be read
    except (StoreError, OSError):
        return InMemoryDirectory(), None
    return directory, today.text if today else None


def _synthesizer(settings: Settings) -> Synthesizer:
    return Synthesizer(settings.speech_cache_dir, settings.synthesis_timeout_seconds)


STYLES = {
    "companion": "bold cyan", "caller": "yellow", "text": "green", "end": "bold",
    "helpdesk": "bold magenta", "you": "dim", "suggested": "cyan",
}  # fmt: skip


@main.command()
@prompts_option
@click.option("--keys", "script", help='Keys to press, space-separated; "t" is silence. Prints the transcript.')
@click.option("--ods", help="The home's ODS code, to hear the read-back personalised.")
@click.option("--slow", is_flag=True, help="Start in slow mode.")
@click.option(
    "--speak/--mute",
    default=None,
    help="Speak the prompts, or show text only. Default: speak at a terminal, text only with --keys.",
)
@click.option("--roleplay", "scenario", type=int, metavar="N", help="Role-play the helpdesk call for scenario N.")
def rehearse(
    prompts: Path | None,
    script: str | None,
    ods: str | None,
    slow: bool,
    speak: bool | None,
    scenario: int | None,
) -> None:
    """Practise the call at the terminal, the keyboard standing in for the keypad."""
    settings = setup.settings()
    # Put me through as the line would run it: off with IVR_PUT_THROUGH=false, the options pressed or not.
    content = _content(prompts).with_line(put_through=settings.put_through,
                                          press_options=settings.put_through_press_options)  # fmt: skip
    code = _ods(ods)
    directory, today = operator_setup(settings)
    beats = None
    if scenario is not None:
        home = directory.home(code) if code else None  # --ods: the answers give the home's code and name
        caller = roleplay.Caller(ods=code, mailbox=home.mailbox if home else None, home=home.name if home else None)
        try:
            beats = roleplay.script(content, scenario, caller)
        except roleplay.NoSuchScenario as error:
            raise click.BadParameter(str(error), param_hint="--roleplay") from None
    # Without a terminal a role-play has no one to wait for: it prints its transcript, as --keys does.
    scripted = script is not None or (beats is not None and not sys.stdin.isatty())
    if not scripted and not sys.stdin.isatty():
        raise click.UsageError("no terminal to read keys from: give --keys to run a scripted rehearsal")
    console = Console(highlight=False)

    def show(line: Line) -> None:
        if not scripted:
            console.print(f"[{STYLES[line.who]}]{escape(line.text)}[/]")

    def notice(text: str) -> None:
        console.print(f"[dim]{escape(text)}[/]")

    keypad: Keypad = ScriptedKeypad(script or "") if scripted else TerminalKeypad(notice)
    voices = _voices(settings)
    wanted = speak if speak is not None else not scripted  # scripted runs (tests, CI) stay silent
    speaker = Speaker(_synthesizer(settings), Player(settings.audio_player), notice) if wanted else None
    try:
        if beats is not None:
            lines = RolePlay(beats, show, speaker=speaker, voices=voices).run(keypad)
        else:
            rehearsal = Rehearsal(content, directory, show, ods=code, slow=slow, speaker=speaker, voices=voices,
                                  crown_dependency_mobiles=settings.crown_dependency_mobiles,
                                  association=setup.association(settings), notice=today)  # fmt: skip
            lines = rehearsal.run(keypad)
    finally:
        if speaker is not None:
            speaker.close()
    if scripted:
        click.echo(transcript(lines))


@main.group(name="audio")
def audio_group() -> None:
    """The prompts as sound files."""


@audio_group.command(name="export")
@prompts_option
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--ods", default=audio_export.EXAMPLE_ODS, show_default=True, help="ODS code for the personalised prompts."
)
def export_audio(prompts: Path | None, directory: Path, ods: str) -> None:
    """Render every prompt to WAV in DIRECTORY, with manifest.csv (node, file, seconds, voice, text)."""
    content = _content(prompts)
    code = _ods(ods) or audio_export.EXAMPLE_ODS
    settings = setup.settings()
    items = list(audio_export.prompts(content, _voices(settings), ods=code, association=setup.association(settings)))
    began = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with _synthesizer(settings) as synthesizer, Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("rendering prompts", total=len(items))
        try:
            done = audio_export.export(items, directory, synthesizer, lambda item: progress.advance(task))
        except SynthesisFailed as error:
            raise click.ClickException(f"{error} (is espeak-ng installed? Debian: libespeak-ng1)") from None
        except OSError as error:  # a folder that cannot be made or written: say which, and why
            raise setup.BadSetup(f"cannot write the audio to {directory}: {error.strerror}") from None
    click.echo(
        f"{done.files} files, {done.seconds / 60:.1f} minutes of speech, in {directory}; "
        f"{done.rendered} rendered, {done.files - done.rendered} from the cache ({settings.speech_cache_dir}); "
        f"{time.perf_counter() - began:.1f} s"
    )


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
    if age > setup.settings().content_max_age_days:
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
    from ivr.cli.console import COMMANDS as CONSOLE_COMMANDS
    from ivr.cli.homes import COMMANDS as DIRECTORY_COMMANDS
    from ivr.cli.phone_line import COMMANDS
    from ivr.cli.twilio import COMMANDS as TWILIO_COMMANDS

    for command in [*COMMANDS, *DIRECTORY_COMMANDS, *TWILIO_COMMANDS, *CONSOLE_COMMANDS]:
        main.add_command(command)


_register_phone_commands()
