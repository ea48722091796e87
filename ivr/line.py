"""What a real phone line needs, said in one place: `ivr serve`, `ivr worker` and the web app all ask here.

Either no Twilio credential is set at all (a local line: texts are printed, requests are signed with a
fixed local token), or every one is (a real line: texts are sent). Anything between would take calls,
promise texts and send none, so it stops the process at start with one line naming what is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ivr.settings import Settings, SettingsError

# Used by `ivr serve` and `ivr call` on one machine when no Twilio credential is set, so the
# signature check stays on locally too. A real line has its own token.
LOCAL_TOKEN = "local-development-only"
SECRET_FILE = "secret-key"


@dataclass(frozen=True)
class Line:
    real: bool  # False: a local line, whose texts go to the console
    auth_token: str  # what Twilio signs its requests with
    secret_key: str  # the root secret later keys are derived from
    previous_secret_key: str | None = None  # accepted while the secret changes

    def derive(self, label: str, length: int = 32) -> bytes:
        """A key for one purpose (HKDF-SHA256, RFC 5869, with `label` as its info), so no two uses share a key
        and a key that leaks from one use says nothing of the root secret or of the others."""
        return derive_key(self.secret_key, label, length)


def derive_key(secret: str, label: str, length: int = 32) -> bytes:
    if length > 255 * 32:
        raise ValueError("HKDF-SHA256 gives at most 8160 bytes")
    # No salt: RFC 5869 then uses a block of zeros, as cryptography's HKDF(salt=None) does.
    pseudorandom = hmac.new(bytes(32), secret.encode(), hashlib.sha256).digest()  # extract
    block, out = b"", b""
    for counter in range(1, -(-length // 32) + 1):  # expand
        block = hmac.new(pseudorandom, block + label.encode() + bytes([counter]), hashlib.sha256).digest()
        out += block
    return out[:length]


def line_for(settings: Settings) -> Line:
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    needs = {
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": token,
        "a sender (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID)": (
            settings.twilio_from_number or settings.twilio_messaging_service_sid
        ),
    }
    given = [name.removeprefix("a sender (").rstrip(")") for name, value in needs.items() if value]
    if not given:
        secret = settings.secret_key.get_secret_value() if settings.secret_key else local_secret(settings.data_dir)
        return Line(real=False, auth_token=LOCAL_TOKEN, secret_key=secret, previous_secret_key=_previous(settings))
    missing = [name for name, value in needs.items() if not value]
    if not settings.secret_key:
        missing.append("IVR_SECRET_KEY")
    if missing:
        raise SettingsError(
            f"a real line needs {', '.join(missing)} too ({', '.join(given)} set); "
            "set them all to send texts, or none to print texts here instead"
        )
    assert token is not None and settings.secret_key is not None  # checked just above
    return Line(real=True, auth_token=token, secret_key=settings.secret_key.get_secret_value(),
                previous_secret_key=_previous(settings))  # fmt: skip


def _previous(settings: Settings) -> str | None:
    return settings.secret_key_previous.get_secret_value() if settings.secret_key_previous else None


def local_secret(data_dir: Path) -> str:
    """The local line's secret, made once and kept in the data folder, so every process and restart shares it."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of two processes starting together, the first to create the file wins
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(32) + "\n")
    for _ in range(50):  # the other process may be between creating the file and writing it
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.02)
    raise SettingsError(f"{path} is empty: delete it, or set IVR_SECRET_KEY")
