"""`ivr twilio`: point the Twilio number at this app, check the account, and print a fallback for a TwiML Bin.

A thin layer over ivr/phone_line/number_setup.py and number_check.py. Registered on the main group in cli/main.py. Tests
hand in a recording HTTP client as `obj={"twilio_http_client": ...}`; otherwise the SDK's own is used,
with a timeout.
"""

from __future__ import annotations

import logging
from typing import NoReturn

import click
from twilio.rest import Client

from ivr import privacy
from ivr.cli.phone_line import _settings
from ivr.content.loader import ContentError, load
from ivr.phone_line import number_check, number_setup
from ivr.phone_line.twiml import TwilioVoice
from ivr.settings import Settings

SETUP = 2  # the exit code when a setting is missing or a choice is needed before anything is asked of Twilio


def _stop(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(SETUP)


def _base_url(settings: Settings) -> str:
    if not settings.public_base_url:
        _stop("PUBLIC_BASE_URL is not set: set it to the app's public https:// address, the one Twilio calls")
    base = str(settings.public_base_url)
    if base.startswith("http://"):
        click.echo("warning: PUBLIC_BASE_URL starts with http://: Twilio should call the app over https://, "
                   "or anyone on the way can read and change the calls' requests", err=True)  # fmt: skip
    return base


def _client(ctx: click.Context, settings: Settings) -> Client:
    if not settings.twilio_account_sid:
        _stop("TWILIO_ACCOUNT_SID is not set: copy the Account SID (AC...) from the Twilio Console")
    if not settings.twilio_auth_token:
        _stop("TWILIO_AUTH_TOKEN is not set: copy the Auth Token from the Twilio Console")
    token = settings.twilio_auth_token.get_secret_value()
    http_client = (ctx.obj or {}).get("twilio_http_client")
    return number_setup.client(str(settings.twilio_account_sid), token, http_client=http_client)


@click.group(name="twilio")
@click.pass_context
def twilio_group(ctx: click.Context) -> None:
    """Wire the Twilio number to this app and check the account."""
    ctx.ensure_object(dict)
    # The SDK logs request parameters, phone numbers included, at INFO; and whatever is logged is masked.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    privacy.install(logging.getLogger("ivr"), logging.getLogger("twilio"))


number_option = click.option(
    "--number", help="The Twilio number to use, +44... (default: TWILIO_FROM_NUMBER, or the account's only number)."
)


@twilio_group.command()
@number_option
@click.option("--fallback-url", help="Where calls go when the app fails, e.g. a TwiML Bin (default: the app's own).")
@click.option("--dry-run", is_flag=True, help="Show what would change, and change nothing.")
@click.pass_context
def configure(ctx: click.Context, number: str | None, fallback_url: str | None, dry_run: bool) -> None:
    """Point the number's voice, fallback, status and SMS webhooks at PUBLIC_BASE_URL."""
    settings = _settings()
    base = _base_url(settings)
    if fallback_url is not None and not fallback_url.startswith(("https://", "http://")):
        raise click.BadParameter("must be an https:// address, such as a TwiML Bin's URL", param_hint="--fallback-url")
    twilio = _client(ctx, settings)
    try:
        found = number_setup.find_number(twilio, number or settings.twilio_from_number)
    except number_setup.SetupError as error:
        _stop(str(error))
    target = number_setup.wanted(base, fallback_url)
    rows = number_setup.changes(found, target)
    _table(rows)
    if not found.sms:
        click.echo(f"note: {found.phone_number} cannot receive texts, so its SMS URL will not be called")
    if dry_run:
        click.echo(f"dry run: {found.phone_number} is unchanged")
        return
    if not any(row.changed for row in rows):
        click.echo(f"{found.phone_number} already points at {base}: nothing to change")
        return
    try:
        number_setup.configure(twilio, found, target)
    except number_setup.SetupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{found.phone_number} now points at {base}")


def _table(rows: list[number_setup.Change]) -> None:
    # Plain lines, not a rich table: long URLs stay whole and copyable at any terminal width.
    width = max(len(row.label) for row in rows)
    for row in rows:
        mark = "" if row.changed else "  (unchanged)"
        click.echo(f"{row.label:<{width}}  before: {row.before}")
        click.echo(f"{'':<{width}}  after:  {row.after}{mark}")


@twilio_group.command()
@number_option
@click.pass_context
def check(ctx: click.Context, number: str | None) -> None:
    """Check the credentials, the account, the number's webhooks and capabilities, and the texts' sender."""
    settings = _settings()
    base = _base_url(settings)
    twilio = _client(ctx, settings)
    wanted = number_check.Wanted(
        base_url=base,
        number=number or settings.twilio_from_number,
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
    )
    findings = number_check.check(twilio, wanted)
    for finding in findings:
        click.echo(f"{'ok' if finding.ok else 'problem'}: {finding.text}")
    if not all(finding.ok for finding in findings):
        raise SystemExit(1)


@twilio_group.command(name="fallback-twiml")
def fallback_twiml() -> None:
    """Print the apology TwiML to paste into a TwiML Bin, for --fallback-url."""
    settings = _settings()
    try:
        content = load(settings.prompts_dir)
    except ContentError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1) from None
    voice = TwilioVoice(settings.twilio_voice, settings.twilio_language, settings.twilio_slow_rate)
    click.echo(number_setup.fallback_twiml(content, voice))


COMMANDS: list[click.Command] = [twilio_group]
