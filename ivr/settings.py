"""Every environment variable the companion reads, validated once at start.

Conventional names stay unprefixed (PORT, DATABASE_URL, PUBLIC_BASE_URL, TWILIO_*);
the companion's own start with IVR_. A `.env` file in the working directory is read too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import phonenumbers
import platformdirs
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_ROOT.parent
VOICE_PATTERN = r"^[a-z]{2,3}(-[a-z0-9]+)*(\+[a-z0-9]+)?$"
APP_NAME = "nhsmail-helpdesk-companion"
# The escalation contact may be in Guernsey, Jersey or the Isle of Man, which share +44.
CONTACT_REGIONS = frozenset({"GB", "GG", "JE", "IM"})
# The care association's contact is spoken and texted: texts' segment budgets allow for these lengths
# (ivr/content/checks.py holds the same numbers; tests/test_settings_association.py keeps them equal), and
# only characters every phone shows.
ASSOCIATION_NAME_LIMIT = 40
ASSOCIATION_EMAIL_LIMIT = 50
ASSOCIATION_NAME = re.compile(r"^[A-Za-z0-9 &'.,()-]+$")
ASSOCIATION_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
DATABASE_SHAPE = re.compile(r"^(sqlite:///.+|(postgres|postgresql|postgresql\+psycopg)://[^/\s]+/[^/\s]+)$")


def running_from_source() -> bool:
    """A clone: the package sits beside its pyproject.toml and the top-level prompts/."""
    return (SOURCE_ROOT / "pyproject.toml").is_file() and (SOURCE_ROOT / "prompts").is_dir()


def default_prompts() -> Path:
    # Installed, the content is package data (ivr/prompts); in a clone it stays at the top level.
    return SOURCE_ROOT / "prompts" if running_from_source() else PACKAGE_ROOT / "prompts"


def default_data_dir() -> Path:
    """A clone keeps its database in var/; an installed companion in the platform's data folder,
    never beside site-packages (~/.local/share/... on Linux, %LOCALAPPDATA%\\... on Windows)."""
    if running_from_source():
        return SOURCE_ROOT / "var"
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _default_database(data: dict[str, Any]) -> str:
    return f"sqlite:///{data.get('data_dir') or default_data_dir()}/ivr.sqlite3"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: the app must not start."""


def default_speech_cache() -> Path:
    """The XDG cache (~/.cache/ivr/speech): per user, outside the repo, safe to delete."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ivr" / "speech"


class Settings(BaseSettings):
    # validate_by_name: a field with an alias (DATABASE_URL) is otherwise ignored when
    # given by its field name in Settings(...), as tests and the CLI do.
    model_config = SettingsConfigDict(
        env_prefix="IVR_", env_file=".env", extra="ignore", frozen=True, validate_by_name=True
    )

    # --- content ---
    prompts_dir: Path = Field(default_factory=default_prompts, description="Folder of the content TOML files")
    content_max_age_days: int = Field(default=365, ge=1, description="`ivr check` warns past this age")

    # --- where the companion keeps its own files (the SQLite database, the local secret key) ---
    # Declared before database_url, whose default is built from it.
    data_dir: Path = Field(default_factory=default_data_dir, description="The companion's own files")

    # --- the web app ---
    port: int = Field(default=5000, ge=1, le=65535, validation_alias=AliasChoices("PORT", "port"))
    database_url: str = Field(
        default_factory=_default_database, validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    public_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PUBLIC_BASE_URL", "public_base_url")
    )
    twilio_account_sid: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )

    @field_validator("twilio_auth_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        # An empty line in a .env file must not become an empty HMAC key that anyone can sign with.
        return None if isinstance(value, str) and not value.strip() else value
    twilio_from_number: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_FROM_NUMBER", "twilio_from_number")
    )
    twilio_messaging_service_sid: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_MESSAGING_SERVICE_SID", "twilio_messaging_service_sid")
    )
    # The one secret from which the companion's keys are derived. A local run makes one and keeps it
    # in data_dir; a real line must set it, the same for every process.
    secret_key: SecretStr | None = Field(default=None, description="The companion's root secret")
    # While the secret changes: calls under way keep working on tokens sealed with the old one.
    secret_key_previous: SecretStr | None = Field(default=None, description="The root secret before the last change")
    # How long a webhook waits for the database before answering without it (Twilio gives up at 15 s).
    database_deadline_seconds: float = Field(default=1.0, gt=0, le=10, description="A webhook's database deadline")
    validate_signature: bool = Field(default=True, description="Off only for local development")
    # Proxy hops in front of the app whose X-Forwarded-For/-Proto/-Host/-Port are believed: a header
    # from further out (or any at all with 0) is the client's word, and a forged host would let a
    # signature made for another address pass when PUBLIC_BASE_URL is not set.
    trusted_proxies: int = Field(default=1, ge=0, le=10, description="Proxy hops whose X-Forwarded-* are trusted")
    # The digital officer's pages under /console; off where only the phone line should be reachable.
    console: bool = Field(default=True, description="Serve the operator console under /console")
    # --- texts ---
    sms_per_second: float = Field(default=1.0, gt=0, le=100, description="Sending rate of the worker")
    sms_max_attempts: int = Field(default=6, ge=1, le=20, description="Tries before a text is marked failed")
    sms_daily_per_mobile: int = Field(default=5, ge=1, description="Texts callers may ask for, per mobile a day")
    sms_daily_per_caller: int = Field(default=10, ge=1, description="Texts one calling number may ask for a day")
    sms_daily_total: int = Field(default=500, ge=1, description="Texts callers may ask for in all, a day")
    crown_dependency_mobiles: bool = Field(
        default=False, description="Also text Guernsey, Jersey and Isle of Man mobiles (+44 7781, 7624...)"
    )
    escalation_contact: str | None = Field(
        default=None, description="The care association's mobile (07... or +44...) that escalations are texted to"
    )
    # --- the care association, whom callers are told to contact when the helpdesk did not help ---
    association_name: str | None = Field(
        default=None, description="The care association's name (or its digital team's) as callers know it"
    )
    association_phone: str | None = Field(default=None, description="A UK number callers may ring the association on")
    association_email: str | None = Field(default=None, description="An email address callers may write to")
    # The number care homes ring to reach the companion: printed on each home's card in the console.
    companion_number: str | None = Field(default=None, description="The companion's own phone number, as dialled")
    # --- emails to the care association (one for each new escalation, to IVR_ASSOCIATION_EMAIL) ---
    # No host: the worker logs each email instead of sending it (the embedded default, like texts).
    smtp_host: str | None = Field(default=None, description="The SMTP server that sends the association's emails")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Its port")
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls (port 587), tls (implicit, port 465), or none (a local relay only)"
    )
    smtp_user: str | None = Field(default=None, description="The SMTP account, when the server wants one")
    smtp_password: SecretStr | None = Field(default=None, description="Its password")
    email_from: str | None = Field(default=None, description="The address emails are sent from")
    # --- put me through: the companion rings the helpdesk for a caller on a UK landline, showing their number ---
    # An extra outbound leg for the whole helpdesk call, paid by the line (see the README): off turns it away.
    put_through: bool = Field(default=True, description="Offer to put callers through to the helpdesk")
    # The helpdesk's options (Option 1, then Option 1) pressed for the caller, as the content's send_digits
    # say; off unless set, because the helpdesk's recorded messages can change and the timing with them.
    put_through_press_options: bool = Field(
        default=False, description="Press the helpdesk's options for a caller put through"
    )
    # --- personal data ---
    retention_days: int = Field(default=30, ge=1, le=3650, description="`ivr purge` removes call data older than this")
    # --- the voice callers hear on the phone (Twilio <Say>; the rehearsal's are below) ---
    # A neural en-GB voice: the standard ones sound clipped on a phone line. Neural Polly voices take
    # <prosody rate>, so slow mode still works.
    twilio_voice: str = Field(
        default="Polly.Amy-Neural", pattern=r"^(Polly|Google)\.[A-Za-z0-9-]+$|^(man|woman|alice)$",
        description="Twilio <Say> voice",
    )
    twilio_roleplay_voice: str = Field(
        default="Polly.Brian-Neural", pattern=r"^(Polly|Google)\.[A-Za-z0-9-]+$|^(man|woman|alice)$",
        description="The helpdesk's voice when a caller practises the call on the phone",
    )
    twilio_language: str = Field(default="en-GB", pattern=r"^[a-z]{2,3}-[A-Z]{2}$", description="Twilio <Say> language")
    twilio_slow_rate: str = Field(default="80%", pattern=r"^\d{2,3}%$", description="SSML prosody rate in slow mode")

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_scheme(cls, value: str) -> str:
        if not DATABASE_SHAPE.match(value):
            raise ValueError("must be sqlite:///path/to/file.sqlite3 or postgresql://user:password@host/database")
        # Heroku-style hosts give postgres://, which SQLAlchemy 2 refuses.
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @field_validator("escalation_contact")
    @classmethod
    def _a_mobile(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # ivr.phone.uk_mobile's rule with the Crown Dependencies allowed, written with phonenumbers here
        # because settings import nothing of ivr; tests/test_phone.py holds the two to the same answers.
        number = _contact_number(value)
        if number is None or phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
            raise ValueError("must be a UK mobile number, such as 07400 123456")
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)

    @field_validator("association_name")
    @classmethod
    def _a_short_plain_name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = " ".join(value.split())
        if len(value) > ASSOCIATION_NAME_LIMIT or not ASSOCIATION_NAME.match(value):
            raise ValueError(
                f"must be up to {ASSOCIATION_NAME_LIMIT} letters, digits, spaces and & ' . , ( ) -, "
                "such as LinCA Digital"
            )
        return value

    @field_validator("association_phone")
    @classmethod
    def _a_uk_number(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        number = _contact_number(value)
        unringable = (PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST)
        if number is None or phonenumbers.number_type(number) in unringable:
            raise ValueError("must be a UK phone number callers can ring, such as 01522 123456")
        # Written as a person writes it, for texts and for reading out in groups.
        return str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))

    @field_validator("companion_number")
    @classmethod
    def _a_number_to_ring(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        number = _contact_number(value)
        if number is None or phonenumbers.number_type(number) == PhoneNumberType.PREMIUM_RATE:
            raise ValueError("must be the UK number care homes ring for the companion, such as 01522 500600")
        return str(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))

    @field_validator("email_from")
    @classmethod
    def _a_sender(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not ASSOCIATION_EMAIL.match(value.strip()):
            raise ValueError("must be an email address, such as companion@example.org")
        return value.strip()

    @field_validator("smtp_host", "smtp_user")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None

    @field_validator("association_email")
    @classmethod
    def _an_email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if len(value) > ASSOCIATION_EMAIL_LIMIT or not ASSOCIATION_EMAIL.match(value):
            raise ValueError(f"must be an email address of up to {ASSOCIATION_EMAIL_LIMIT} characters")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (the address Twilio calls)")
        return value.rstrip("/")

    # --- the spoken rehearsal (pyttsx3 over espeak-ng) ---
    # A voice is a language, optionally with an espeak-ng variant after "+": chosen by language
    # because voice ids differ between espeak-ng versions.
    rehearsal_voice: str = Field(default="en-gb", pattern=VOICE_PATTERN, description="The companion's voice")
    rehearsal_rate: int = Field(default=150, ge=60, le=400, description="Words a minute")
    rehearsal_slow_rate: int = Field(default=110, ge=40, le=400, description="Words a minute in slow mode")
    roleplay_helpdesk_voice: str = Field(
        default="en-gb+f3", pattern=VOICE_PATTERN, description="The helpdesk's voice in the role-play"
    )
    speech_cache_dir: Path = Field(
        default_factory=default_speech_cache, description="Rendered prompts, by text, voice and rate"
    )
    synthesis_timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Bound on one prompt's synthesis")
    audio_player: str = Field(default="aplay -q", min_length=1, description="Plays a WAV file given after it")


def _contact_number(value: str) -> phonenumbers.PhoneNumber | None:
    """A valid number of the UK or the Crown Dependencies, read as a person writes it; None otherwise."""
    try:
        number = phonenumbers.parse(value, "GB")
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) not in CONTACT_REGIONS:
        return None
    return number


class SettingsError(Exception):
    """A setting a person got wrong: one line naming the environment variable and what it expects."""


# Never echoed in an error: they hold passwords or keys.
SENSITIVE = frozenset({"twilio_auth_token", "secret_key", "secret_key_previous", "database_url", "smtp_password"})


def _aliases(field: str) -> list[str]:
    alias = Settings.model_fields[field].validation_alias
    return [str(choice) for choice in alias.choices] if isinstance(alias, AliasChoices) else []


def env_name(field: str) -> str:
    """The environment variable a field is read from: its unprefixed alias, or IVR_ and its name."""
    aliases = _aliases(field)
    return aliases[0] if aliases else f"IVR_{field.upper()}"


def _field(location: str) -> str:
    """pydantic reports an aliased field by the alias it was given as."""
    if location in Settings.model_fields:
        return location
    return next((name for name in Settings.model_fields if location in _aliases(name)), location)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and .env), or a SettingsError of one line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(describe(error)) from None


def describe(error: ValidationError) -> str:
    problems = []
    for problem in error.errors():
        field = _field(str(problem["loc"][0])) if problem["loc"] else "?"
        message = str(problem["msg"]).removeprefix("Value error, ")
        hidden = field in SENSITIVE or problem["type"] == "missing"
        shown = "" if hidden else f" (got {str(problem.get('input'))[:60]!r})"
        name = env_name(field) if field in Settings.model_fields else field
        problems.append(f"{name}: {message}{shown}")
    return "bad setting: " + "; ".join(problems)
