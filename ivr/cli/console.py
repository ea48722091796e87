"""`ivr console`: the accounts of the operator console (/console), managed on the server.

Passwords are prompted for (hidden, twice) or read from standard input with --password-stdin,
never taken as an argument, which would leave them in the shell's history and the process list.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from ivr.cli.phone_line import open_store
from ivr.homes.notice import UK
from ivr.operators import accounts

password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input (for scripts)."
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Again, to be sure")
    try:
        return accounts.check_password(password)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None


@click.group(name="console")
def console_group() -> None:
    """Accounts for the operator console in the browser (/console)."""


@console_group.command(name="add-user")
@click.argument("name")
@password_stdin
def add_user(name: str, password_stdin: bool) -> None:
    """Add an account called NAME that can sign in to the console."""
    try:
        accounts.check_name(name)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    store = open_store()
    if accounts.find(store, name):
        raise click.ClickException(f"there is already a user called {name} (`ivr console set-password {name}`)")
    try:
        accounts.add(store, name, _password(password_stdin))
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{name} can now sign in at /console.")


@console_group.command(name="remove-user")
@click.argument("name")
def remove_user(name: str) -> None:
    """Remove NAME's account; a session they have open stops at their next click."""
    if not accounts.remove(open_store(), name):
        raise click.ClickException(f"no user called {name} (see `ivr console users`)")
    click.echo(f"{name}: removed.")


@console_group.command(name="set-password")
@click.argument("name")
@password_stdin
def set_password(name: str, password_stdin: bool) -> None:
    """Give NAME a new password; it also unlocks the account and signs it out everywhere."""
    store = open_store()
    if accounts.find(store, name) is None:
        raise click.ClickException(f"no user called {name} (see `ivr console users`)")
    accounts.set_password(store, name, _password(password_stdin))
    click.echo(f"{name}: new password set; any sessions are signed out and the account is unlocked.")


@console_group.command(name="users")
def users() -> None:
    """The console's accounts, and whether any is locked."""
    found = accounts.listing(open_store())
    table = Table("Name", "Password set", "Locked until")
    for account in found:
        locked = account.locked_until.astimezone(UK).strftime("%Y-%m-%d %H:%M") if account.locked_until else "-"
        table.add_row(account.name, account.password_changed_at.astimezone(UK).strftime("%Y-%m-%d"), locked)
    Console().print(table)
    click.echo(f"{len(found)} {'user' if len(found) == 1 else 'users'}.")


COMMANDS: list[click.Command] = [console_group]
