"""The `ivr` commands for the care association's digital officer: homes, escalations, notice and purge.

Registered on the main group in cli.py. Each opens the database from DATABASE_URL and
brings its schema up to date first, so they work on a fresh machine's SQLite file too.
"""

from __future__ import annotations

import csv
import getpass
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ivr.cli.phone_line import _settings, open_store
from ivr.homes import directory_store as home_store
from ivr.homes import escalations as escalation_store
from ivr.homes import notice as notice_store
from ivr.homes.directory import Home
from ivr.homes.files import LAYOUTS, BadRow, HomeFileError, Layout, ParsedFile, read_homes, record_from_fields
from ivr.operators import audit
from ivr.phone import mask
from ivr.store import retention
from ivr.store.database import Store


def operator() -> str:
    """Who made a change from the command line, for the audit log the console shows."""
    try:
        return f"command line ({getpass.getuser()})"[:64]
    except (OSError, KeyError):  # no user name for this uid (a container)
        return "command line"


def _cell(text: str | None) -> str:
    """A value from a file or a caller, shown as typed: rich would read '[bold]' in a name as markup."""
    return escape(text) if text else "-"


# --- homes ---------------------------------------------------------------------------------


@click.group()
def homes() -> None:
    """The directory of care homes: who is calling, and their ODS code and mailbox."""


@homes.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--layout", type=click.Choice(LAYOUTS), help="The file's layout; by default found from its first lines.")
@click.option("--dry-run", is_flag=True, help="Show what would change, and change nothing.")
def homes_import(file: Path, layout: Layout | None, dry_run: bool) -> None:
    """Add and update homes from FILE: our simple CSV, the CQC locations sheet, or the ODS ecarehomesite file.

    Bad rows are listed by line and left out; the good rows are imported together, in one
    transaction. Importing the same file again changes nothing. Exits 1 if any row was bad.
    """
    try:
        parsed = _read_with_progress(file, layout)
    except HomeFileError as error:
        raise click.ClickException(str(error)) from None
    store = open_store()  # only once the file is known to be readable
    plan = home_store.import_records(store, parsed.homes, carries_contacts=parsed.layout == "simple", dry_run=dry_run)
    click.echo(
        f"{file}: {parsed.rows:,} rows in the {parsed.layout} layout: {len(parsed.homes):,} homes, "
        f"{parsed.skipped:,} passed over (not care homes, closed, or with no ODS code), {len(parsed.bad):,} bad."
    )
    _report_bad(parsed.bad)
    verb = ("would add", "would change") if dry_run else ("added", "changed")
    click.echo(f"{verb[0].capitalize()} {len(plan.added):,}, {verb[1]} {len(plan.changed):,}, "
               f"{plan.unchanged:,} already up to date.")  # fmt: skip
    for home, fields in plan.changed[:20] if dry_run else []:
        click.echo(f"  {home.ods} {home.name}: {', '.join(fields)}")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
    else:
        if plan.added or plan.changed:
            audit.record(store, operator(), "imported", f"{file.name}: {len(plan.added)} added, "
                                                         f"{len(plan.changed)} changed")  # fmt: skip
        _warn_shared(store, [record.ods for record in parsed.homes])
    if parsed.bad:
        sys.exit(1)


def _read_with_progress(file: Path, layout: Layout | None) -> ParsedFile:
    """Read the file with a progress bar: the national files have tens of thousands of rows."""
    try:
        with file.open("rb") as handle:
            total = sum(1 for _ in handle)
    except OSError as error:
        raise click.ClickException(f"{file}: cannot read it: {error.strerror}") from None
    columns = (TextColumn("reading {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(file.name, total=total)
        parsed = read_homes(file, layout=layout, on_row=lambda n: progress.update(task, completed=n))
        progress.update(task, completed=total)  # the header and blank lines are lines too: end full
        return parsed


def _report_bad(bad: tuple[BadRow, ...]) -> None:
    if not bad:
        return
    click.echo("These rows were left out; fix them and import the file again:", err=True)
    for row in bad[:50]:
        click.echo(f"  line {row.line}: {row.reason}", err=True)
    if len(bad) > 50:
        click.echo(f"  ... and {len(bad) - 50:,} more", err=True)


@homes.command(name="list")
@click.option("--search", help="Part of a name, ODS code or postcode.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def homes_list(search: str | None, limit: int) -> None:
    """List homes, by ODS code. Registered mobiles are masked; `ivr homes show` gives them whole."""
    store = open_store()
    found = home_store.homes(store, search=search, limit=limit)
    table = Table("ODS code", "Name", "Landlines", "Mobile", "Postcode")
    for home in found:
        table.add_row(home.ods, _cell(home.name), " ".join(home.landlines) or "-",
                      mask(home.mobile) if home.mobile else "-", _cell(home.postcode))  # fmt: skip
    Console().print(table)
    click.echo(f"{len(found):,} shown of {home_store.count(store):,} homes.")


@homes.command(name="show")
@click.argument("ods")
def homes_show(ods: str) -> None:
    """Everything the directory holds about one home."""
    home = home_store.StoreDirectory(open_store()).home(ods.strip().upper())
    if home is None:
        raise click.ClickException(f"no home with ODS code {ods.strip().upper()} (try `ivr homes list --search`)")
    click.echo(f"ODS code:        {home.ods}\nName:            {home.name}")
    click.echo(f"Shared mailbox:  {home.mailbox}{'' if home.mailbox_override else ' (the usual address)'}")
    click.echo(f"Landlines:       {', '.join(home.landlines) or 'none'}")
    click.echo(f"Registered mobile: {home.mobile or 'none'}")
    click.echo(f"Postcode:        {home.postcode or 'none'}")


@homes.command(name="add")
@click.argument("ods")
@click.argument("name")
@click.option("--landline", "landlines", multiple=True, help="A landline the home calls from; give it more than once.")
@click.option("--mobile", help="The registered mobile: texts go to it only on calls from a landline above.")
@click.option("--mailbox", help="The shared mailbox, when it is not care.<ods code>@nhs.net.")
@click.option("--postcode")
@click.option("--replace", is_flag=True, help="If the home is there already, put these details in place of all of "
              "its own (landlines and mobile not given are removed). To change one detail, use `ivr homes edit`.")
def homes_add(
    ods: str, name: str, landlines: tuple[str, ...], mobile: str | None, mailbox: str | None, postcode: str | None,
    replace: bool,
) -> None:  # fmt: skip
    """Add a home (the same checks as an import). A home already there is refused unless --replace."""
    record = record_from_fields(ods=ods, name=name, landlines=landlines, mobile=mobile or "", mailbox=mailbox or "",
                                postcode=postcode or "")  # fmt: skip
    if isinstance(record, BadRow):
        raise click.ClickException(record.reason)
    home = Home(ods=record.ods, name=record.name, landlines=record.landlines or (), mobile=record.mobile,
                mailbox_override=record.mailbox, postcode=record.postcode)  # fmt: skip
    store = open_store()
    outcome = home_store.add(store, home, replace=replace)
    if outcome == "exists":
        raise click.ClickException(
            f"{home.ods} is in the directory already; nothing was changed. To change one detail: ivr homes edit "
            f"{home.ods} --name/--landline/--mobile/--mailbox/--postcode. To replace every detail (its landlines "
            "and registered mobile included): add it again with --replace."
        )
    if outcome != "unchanged":
        audit.record(store, operator(), "added" if outcome == "added" else "replaced", f"home {home.ods}")
    click.echo(f"{home.ods} {home.name}: {outcome}.")
    _warn_shared(store, [home.ods])


@homes.command(name="edit")
@click.argument("ods")
@click.option("--name", help="The home's name, as callers hear it.")
@click.option("--landline", "landlines", multiple=True,
              help="Its landlines: give each, more than once; they replace the ones held. --landline '' for none.")
@click.option("--mobile", help="The registered mobile; '' for none.")
@click.option("--mailbox", help="The shared mailbox when it is not care.<ods code>@nhs.net; '' for the usual one.")
@click.option("--postcode", help="'' for none.")
def homes_edit(ods: str, name: str | None, landlines: tuple[str, ...], mobile: str | None, mailbox: str | None,
               postcode: str | None) -> None:  # fmt: skip
    """Change the details given and keep every other (the same checks as an import)."""
    code = ods.strip().upper()
    if name is None and not landlines and mobile is None and mailbox is None and postcode is None:
        raise click.UsageError("say what to change: --name, --landline, --mobile, --mailbox or --postcode")
    store = open_store()
    given = [number for number in landlines if number.strip()] if landlines else None
    done = home_store.edit(store, code, name=name, landlines=given, mobile=mobile, mailbox=mailbox,
                           postcode=postcode)  # fmt: skip
    if done.problem:
        raise click.ClickException(f"{code}: {done.problem}; nothing was changed")
    if not done.changed:
        click.echo(f"{code}: unchanged (it already had those details).")
        return
    audit.record(store, operator(), "changed", f"home {code}: {', '.join(done.changed)}")
    click.echo(f"{code}: changed {', '.join(done.changed)}.")
    if "landlines" in done.changed:
        _warn_shared(store, [code])


def _warn_shared(store: Store, codes: list[str]) -> None:
    shared = home_store.shared_landlines(store, codes)
    if not shared:
        return
    verb = "belongs" if len(shared) == 1 else "belong"
    click.echo(f"Warning: {_count(len(shared), 'landline')} {verb} to more than one home, so calls from them "
               "will not be recognised as any home's (a group's head office, say):", err=True)  # fmt: skip
    for number, owners in list(shared.items())[:20]:
        click.echo(f"  {number}: {', '.join(owners)}", err=True)
    if len(shared) > 20:
        click.echo(f"  ... and {len(shared) - 20:,} more", err=True)


@homes.command(name="remove")
@click.argument("ods")
def homes_remove(ods: str) -> None:
    """Remove a home and its landlines from the directory."""
    code = ods.strip().upper()
    store = open_store()
    if not home_store.remove(store, code):
        raise click.ClickException(f"no home with ODS code {code}")
    audit.record(store, operator(), "removed", f"home {code}")
    click.echo(f"{code}: removed.")


# --- escalations ---------------------------------------------------------------------------


@click.group()
def escalations() -> None:
    """Helpdesk tickets that callers passed on, for the digital officer to follow up."""


@escalations.command(name="list")
@click.option("--open", "only_open", is_flag=True, help="Only those not closed yet.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on standard output, for a spreadsheet.")
def escalations_list(only_open: bool, as_csv: bool) -> None:
    """The escalations, oldest first. Callback numbers are masked in the table and whole in the CSV."""
    found = escalation_store.listing(open_store(), only_open=only_open)
    rows = escalation_store.csv_rows(found)
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(escalation_store.CSV_COLUMNS)
        writer.writerows(rows)
        return
    table = Table("Id", "Received", "ODS code", "Home", "Ticket", "Reason", "Status", "Closed", "Callback")
    for row, escalation in zip(rows, found, strict=True):
        table.add_row(*(_cell(cell) for cell in row[:8]), mask(escalation.callback) if escalation.callback else "-")
    Console().print(table)
    click.echo(f"{_count(len(found), 'escalation')}{' open' if only_open else ''}.")


@escalations.command(name="close")
@click.argument("escalation_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
@click.option("--note", help="What was done: kept with the escalation and in the CSV.")
def escalations_close(escalation_id: int, note: str | None) -> None:
    """Mark an escalation as dealt with."""
    closed = escalation_store.close(open_store(), escalation_id, note=note)
    if closed is None:
        raise click.ClickException(f"no escalation {escalation_id} (see `ivr escalations list`)")
    click.echo(f"Escalation {escalation_id}: {'closed' if closed else 'was already closed'}.")


@escalations.command(name="reopen")
@click.argument("escalation_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
def escalations_reopen(escalation_id: int) -> None:
    """Open a closed escalation again, when the helpdesk did not do what it said."""
    reopened = escalation_store.reopen(open_store(), escalation_id)
    if reopened is None:
        raise click.ClickException(f"no escalation {escalation_id} (see `ivr escalations list`)")
    click.echo(f"Escalation {escalation_id}: {'reopened' if reopened else 'was already open'}.")


# --- notice ----------------------------------------------------------------------------------


@click.group()
def notice() -> None:
    """A short message said after the greeting on every call, such as a known NHSmail outage."""


@notice.command(name="set")
@click.argument("text")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="The last day to say it (YYYY-MM-DD).")
def notice_set(text: str, until: datetime | None) -> None:
    """Say TEXT after the greeting from the next call on."""
    last_day = until.date() if until is not None else None
    problem = notice_store.problem(text, last_day)
    if problem:
        raise click.ClickException(problem)
    saved = notice_store.set_notice(open_store(), text, last_day)
    click.echo(f"Callers will hear: {saved.text!r}" + (f", until the end of {last_day:%d %B %Y}." if last_day else
                                                       ", until `ivr notice clear`."))  # fmt: skip


@notice.command(name="clear")
def notice_clear() -> None:
    """Stop saying the notice."""
    click.echo("Notice cleared." if notice_store.clear(open_store()) else "There was no notice.")


@notice.command(name="show")
def notice_show() -> None:
    """The notice callers hear today, if any."""
    current = notice_store.current(open_store())
    click.echo(f"{current.text!r}" + (f" (until {current.until:%Y-%m-%d})" if current.until else "") if current
               else "No notice is said today.")  # fmt: skip


# --- purge -------------------------------------------------------------------------------------


@click.command()
@click.option("--days", type=click.IntRange(1, 3650), help="Keep this many days (default: IVR_RETENTION_DAYS, 30).")
@click.option("--dry-run", is_flag=True, help="Count what would go, and remove nothing.")
def purge(days: int | None, dry_run: bool) -> None:
    """Remove call records, phone numbers and texts older than the retention period; keep anonymous counts.

    Safe to run daily (for example from the platform's scheduler): each call and text is
    counted once, as it is removed. Numbers that texted STOP and open escalations are kept.
    """
    keep = days or _settings().retention_days
    done = retention.purge(open_store(), days=keep, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {_count(done.calls, 'call')}, {_count(done.texts, 'text')} and "
               f"{_count(done.escalations, 'closed escalation')} older than {_count(keep, 'day')}.")  # fmt: skip
    for metric, value in done.counts.items():
        click.echo(f"  {metric}: {value:,}")


@click.command()
def usage() -> None:
    """The anonymous counts: calls and scenarios reached (live), texts by outcome and escalations by reason
    (as purges removed them)."""
    counts = retention.usage(open_store())
    if not counts:
        click.echo("No counts yet: calls are counted as they happen, texts as `ivr purge` removes them.")
    for metric, value in counts.items():
        click.echo(f"{metric}: {value:,}")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


COMMANDS: list[click.Command] = [homes, escalations, notice, purge, usage]
