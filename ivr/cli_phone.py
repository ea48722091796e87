"""The `ivr` commands for the phone side: serve, call and db. Registered on the main group in cli.py."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from ivr.callsim import CallSimulator, Heard
from ivr.settings import Settings
from ivr.store import Store

# Used by `ivr serve` and `ivr call` on one machine when no TWILIO_AUTH_TOKEN is set, so the
# signature check stays on locally too. A real deployment must set its own token.
LOCAL_TOKEN = "local-development-only"


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as error:  # pydantic's ValidationError: one clear line, not a traceback
        raise click.ClickException(f"bad settings: {error}") from None


def _describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.group()
def db() -> None:
    """The database: call state and the outbox."""


@db.command()
def upgrade() -> None:
    """Bring the database schema up to date (the Procfile's release step)."""
    settings = _settings()
    Store(settings.database_url).upgrade()
    click.echo(f"database {_describe(settings.database_url)} is up to date")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, help="Default: PORT, or 5000.")
def serve(host: str, port: int | None) -> None:
    """Run the phone app on this machine with the embedded defaults."""
    from ivr.web import ConfigurationError, create_app

    settings = _settings()
    updates: dict[str, object] = {}
    if settings.twilio_auth_token is None:
        updates["twilio_auth_token"] = LOCAL_TOKEN
    settings = settings.model_copy(update=updates) if updates else settings
    port = port or settings.port
    Store(settings.database_url).upgrade()
    try:
        app = create_app(settings)
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    base = settings.public_base_url or f"http://{host}:{port}"
    click.echo(f"database: {_describe(settings.database_url)}")
    click.echo("Give Twilio these URLs (Phone Numbers > your number > Voice configuration):")
    click.echo(f"  A call comes in (POST):  {base}/voice")
    click.echo(f"  Primary handler fails:   {base}/voice/fallback")
    click.echo(f"  Call status changes:     {base}/voice/status")
    if "twilio_auth_token" in updates:
        click.echo(f"No TWILIO_AUTH_TOKEN: requests must be signed with the local token {LOCAL_TOKEN!r}.")
        click.echo(f'Try it: ivr call http://{host}:{port} --keys "2 1 1 1"')
    app.run(host=host, port=port, threaded=True)


@click.command()
@click.argument("url")
@click.option("--keys", default="", help='Keys to press, space-separated; "t" is silence, "07400123456#" an entry.')
@click.option("--from", "caller", default="+441522123456", show_default=True, help="The caller ID to send.")
@click.option("--token", help="Auth token to sign with. Default: TWILIO_AUTH_TOKEN, or the local token.")
def call(url: str, keys: str, caller: str, token: str | None) -> None:
    """Ring a running server as Twilio would, and print what the caller hears."""
    settings = _settings()
    secret = token or (settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else LOCAL_TOKEN)
    labels = {"companion": "Companion", "caller": "Caller", "end": "End", "error": "Error"}

    def show(heard: Heard) -> None:
        click.echo(f"{labels[heard.who]}: {heard.text}")

    heard = CallSimulator(url, secret, caller=caller, show=show).run(keys.split())
    if any(h.who == "error" for h in heard):
        raise SystemExit(1)


COMMANDS: list[click.Command] = [db, serve, call]
