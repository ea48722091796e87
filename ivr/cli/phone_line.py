"""The `ivr` commands for the phone side: serve, call and db. Registered on the main group in cli.py."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import get_args
from urllib.error import URLError
from urllib.parse import urlsplit

import click
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ivr import gsm7, privacy
from ivr.cli import setup
from ivr.content.loader import ContentError, load
from ivr.content.model import Reason, reason_words
from ivr.engine.validators import ODS_CODE
from ivr.homes import escalations
from ivr.line import LOCAL_TOKEN
from ivr.phone import mask
from ivr.phone_line.callsim import DIAL_STATUSES, CallSimulator, Heard
from ivr.settings import ConfigurationError, Settings
from ivr.store.database import Store, StoreError, describe
from ivr.texts import attention
from ivr.texts.compose import compose
from ivr.texts.mailing import EmailSender, EmailWorker, EmailWorkerSettings, LogSender, SmtpSender
from ivr.texts.sending import ConsoleSender, Sender, TwilioSender, Worker, WorkerSettings

EXAMPLE_TICKET = "8123456"  # what `ivr sms preview` fills an escalation's ticket number with


def _settings() -> Settings:
    return setup.settings()


def _describe(url: str) -> str:
    return describe(url)


def open_store(settings: Settings | None = None) -> Store:
    """The database of DATABASE_URL with its schema brought up to date, as every command needs it."""
    settings = settings or _settings()
    try:
        store = Store(settings.database_url)
        store.upgrade()
    except (StoreError, OSError) as error:  # a mistyped DATABASE_URL, a server that is down: one line
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise click.ClickException(f"cannot open the database {_describe(settings.database_url)} "
                                   f"(DATABASE_URL): {reason}") from None  # fmt: skip
    return store


def sender_for(settings: Settings) -> Sender:
    """Twilio on a real line; the console only when no Twilio credential is set at all (see ivr/line.py)."""
    line = setup.line(settings)
    if line.real:
        assert settings.twilio_account_sid is not None  # a real line has every credential
        return TwilioSender(
            settings.twilio_account_sid, line.auth_token, from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
        )  # fmt: skip
    return ConsoleSender(click.echo)


def email_worker_for(settings: Settings, store: Store) -> EmailWorker:
    """SMTP when IVR_SMTP_HOST is set; otherwise each email is written to the log (masked), as texts are printed."""
    sender: EmailSender = LogSender()
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        sender = SmtpSender(settings.smtp_host, settings.smtp_port, tls=settings.smtp_tls, user=settings.smtp_user,
                            password=password, sender=settings.email_from or "nhsmail-companion@localhost")
    return EmailWorker(store, sender, EmailWorkerSettings(max_attempts=settings.sms_max_attempts))


def worker_for(settings: Settings, store: Store) -> Worker:
    callback = f"{settings.public_base_url}/sms/status" if settings.public_base_url else None
    options = WorkerSettings(per_second=settings.sms_per_second, max_attempts=settings.sms_max_attempts,
                             status_callback=callback)  # fmt: skip
    return Worker(store, sender_for(settings), options)


@click.group()
def db() -> None:
    """The database: call state and the outbox."""


@db.command()
def upgrade() -> None:
    """Bring the database schema up to date (the Procfile's release step)."""
    settings = _settings()
    open_store(settings)
    click.echo(f"database {_describe(settings.database_url)} is up to date")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), help="Default: PORT, or 5000.")
def serve(host: str, port: int | None) -> None:
    """Run the phone app on this machine with the embedded defaults."""
    from ivr.app import create_app

    settings = _settings()
    line = setup.line(settings)
    # A local line signs with the fixed local token that `ivr call` uses too.
    app_settings = settings if line.real else settings.model_copy(update={"twilio_auth_token": SecretStr(LOCAL_TOKEN)})
    port = port or settings.port
    store = open_store(settings)
    try:
        app = create_app(app_settings, line=line)
    except ConfigurationError as error:
        raise setup.BadSetup(str(error)) from None
    base = settings.public_base_url or f"http://{host}:{port}"
    click.echo(f"database: {_describe(settings.database_url)}")
    click.echo("Give Twilio these URLs (or let `ivr twilio configure` set them):")
    click.echo(f"  A call comes in (POST):  {base}/voice")
    click.echo(f"  Primary handler fails:   {base}/voice/fallback")
    click.echo(f"  Call status changes:     {base}/voice/status")
    click.echo(f"  A message comes in:      {base}/sms")
    if settings.console:
        click.echo(f"The operator console: {base}/console (accounts: `ivr console add-user NAME`)")
    drain = worker_for(settings, store)
    # The embedded default sends (or prints) texts from this process; a deployment runs `ivr worker`.
    threading.Thread(target=drain.run, name="outbox", daemon=True).start()
    threading.Thread(target=email_worker_for(settings, store).run, name="email-outbox", daemon=True).start()
    if line.real:
        click.echo("Texts are sent through Twilio.")
    else:
        click.echo("No Twilio credentials: texts are printed here, not sent.")
        click.echo(f"Requests must be signed with the local token {LOCAL_TOKEN!r}.")
        click.echo(f'Try it: ivr call http://{host}:{port} --keys "2 2 1 1 1"')
    app.run(host=host, port=port, threaded=True)


@click.command()
@click.argument("url")
@click.option("--keys", default="", help='Keys to press, space-separated; "t" is silence, "07400123456#" an entry, '
              '"say:victor_lima_1_5_alpha" a spoken answer where speech is allowed.')
@click.option("--from", "caller", default="+441522123456", show_default=True, help="The caller ID to send.")
@click.option("--token", help="Auth token to sign with. Default: TWILIO_AUTH_TOKEN, or the local token.")
@click.option("--dial-status", type=click.Choice(DIAL_STATUSES), default="completed", show_default=True,
              help='How a put-through\'s helpdesk call ends, as Twilio reports it ("hangup": the caller hangs up '
                   'during it). A key "dial:busy" in --keys chooses for one put-through.')  # fmt: skip
def call(url: str, keys: str, caller: str, token: str | None, dial_status: str) -> None:
    """Ring a running server as Twilio would, and print what the caller hears."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise setup.BadSetup(f"{url!r} is not a server's address: give one like http://127.0.0.1:5000")
    settings = _settings()
    secret = token or (settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else LOCAL_TOKEN)
    labels = {"companion": "Companion", "caller": "Caller", "end": "End", "error": "Error", "dial": "Twilio"}

    def show(heard: Heard) -> None:
        click.echo(f"{labels[heard.who]}: {heard.text}")

    try:
        heard = CallSimulator(url, secret, caller=caller, show=show, dial_status=dial_status).run(keys.split())
    except URLError as error:  # nothing listening there, or no such host: say so, without a traceback
        raise click.ClickException(f"cannot reach {url}: {error.reason} (is `ivr serve` running?)") from None
    if any(h.who == "error" for h in heard):
        raise SystemExit(1)


@click.command()
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
def worker(once: bool) -> None:
    """Send the texts in the outbox (the Procfile's worker), with retries and at a steady rate."""
    settings = _settings()
    privacy.configure_logging()
    store = open_store(settings)
    runner = worker_for(settings, store)
    mailer = email_worker_for(settings, store)
    click.echo(f"{runner.name}: sending through {type(runner.sender).__name__} at {settings.sms_per_second}/s; "
               f"emails through {type(mailer.sender).__name__}")  # fmt: skip

    def stop(signum: int | None = None, frame: object = None) -> None:
        runner.request_stop(signum, frame)
        mailer.request_stop(signum, frame)

    # The platform stops a worker with SIGTERM (and SIGKILL some seconds later): the text being sent is
    # finished and recorded, the rest of the batch is let go for another worker, and the process ends.
    signal.signal(signal.SIGTERM, stop)
    if once:
        while runner.run_once() + mailer.run_once():
            pass
    else:
        # Emails are few (one an escalation) and slower to hand over: a thread of their own, so an SMTP
        # server that is slow to answer never holds up the texts.
        emails_thread = threading.Thread(target=mailer.run, name="email-outbox", daemon=True)
        emails_thread.start()
        runner.run()
        mailer.request_stop()
        emails_thread.join(timeout=30)
    if runner.stopping.is_set():
        click.echo(f"{runner.name}: stopped")


@click.group()
def sms() -> None:
    """The texts the companion sends."""


@sms.command()
@click.argument("purpose", required=False)
@click.option("--ods", help="Fill in this ODS code, as for a known home.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text, for scripts.")
@click.option("--prompts", type=click.Path(exists=True, file_okay=False, path_type=Path))
def preview(purpose: str | None, ods: str | None, as_json: bool, prompts: Path | None) -> None:
    """Print each text (or one, by name or scenario number) with its encoding and segment count."""
    try:
        content = load(prompts or _settings().prompts_dir)
    except ContentError as error:
        raise click.ClickException("; ".join(error.problems)) from None
    names = list(content.sms)
    if purpose is not None:
        by_scenario = {str(node.scenario): node.sms for _, node in content.scenarios()}
        chosen = by_scenario.get(purpose, purpose)
        if chosen not in content.sms:
            raise click.BadParameter(f"no text called {purpose!r}; texts: {', '.join(names)}")
        follow_up = content.sms[chosen].follow_up
        names = [chosen, follow_up] if follow_up else [chosen]  # the second text of a pair comes with it
    code = ods.strip().upper() if ods else None
    if code is not None and not ODS_CODE.fullmatch(code):
        raise click.BadParameter(f"{ods!r} is not an ODS code: V and four letters or digits, such as VL15A",
                                 param_hint="--ods")  # fmt: skip
    # An escalation's texts carry a ticket and what happened: filled with an example, and the
    # longest of the reasons, so the count shown is the one a caller's text can reach.
    reason = max(get_args(Reason), key=lambda name: len(reason_words(content, name)))
    association = setup.association(_settings())
    for name in names:
        body = compose(content, name, ods=code, ticket=EXAMPLE_TICKET, reason=reason, association=association)
        counted = gsm7.count(body)
        if as_json:
            click.echo(json.dumps({"purpose": name, "body": body, "encoding": counted.encoding,
                                   "segments": counted.segments, "characters": counted.units}))  # fmt: skip
        else:
            parts = "1 segment" if counted.segments == 1 else f"{counted.segments} segments"
            click.echo(f"== {name}: {counted.encoding}, {counted.units} characters, {parts}")
            click.echo(body + "\n")


@sms.command(name="list")
@click.option("--opt-outs", "with_opt_outs", is_flag=True, help="Also list the numbers that opted out.")
def sms_list(with_opt_outs: bool) -> None:
    """Texts that need attention: failed, not delivered, or not known to have gone; latest first.

    Numbers are masked, as in the console (which shows one whole on request, and records that).
    """
    store = open_store()
    found = attention.problems(store)
    table = Table("Id", "Queued (UK)", "Purpose", "To", "State", "Twilio's reason", "Tries", "Resent as")
    for text in found:
        table.add_row(str(text.id), escalations.uk_time(text.created_at), escape(text.purpose), mask(text.to),
                      text.state, escape(text.error or "-"), str(text.attempts),
                      str(text.resent_as) if text.resent_as else "-")  # fmt: skip
    Console().print(table)
    waiting = sum(1 for text in found if text.resent_as is None)
    click.echo(f"{len(found)} {'text' if len(found) == 1 else 'texts'}; {waiting} not resent "
               "(`ivr sms resend ID`).")  # fmt: skip
    if with_opt_outs:
        opted = attention.opted_out(store)
        click.echo(f"{len(opted)} opted out:")
        for entry in opted:
            click.echo(f"  {mask(entry.number)} since {escalations.uk_time(entry.at)}")


@sms.command(name="resend")
@click.argument("text_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
def sms_resend(text_id: int) -> None:
    """Queue text ID again, as a new text to the same number, within the daily caps and opt-outs."""
    from ivr.phone_line.web import text_limits

    result = attention.resend(open_store(), text_id, text_limits(_settings()))
    if result.refusal is not None:
        raise click.ClickException(REFUSED[result.refusal])
    if result.reason is not None:
        raise click.ClickException(f"text {text_id}: {result.reason}" +
                                   (f" (as text {result.new_id})" if result.new_id else ""))  # fmt: skip
    click.echo(f"Text {text_id} is queued again as text {result.new_id}; `ivr worker` sends it.")


REFUSED = {
    "opted_out": "not resent: that number opted out (it texted STOP)",
    "limit": "not resent: a daily cap is reached (IVR_SMS_DAILY_PER_MOBILE or IVR_SMS_DAILY_TOTAL)",
}


COMMANDS: list[click.Command] = [db, serve, call, worker, sms]
