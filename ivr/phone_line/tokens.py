"""The call's state, sealed into the URLs Twilio calls back: it travels with the call, so a turn needs no database.

Deterministic authenticated encryption (AES-SIV), with the CallSid as associated data: the
same state on the same call always seals to the same token (a retried request is answered
byte for byte the same), a token from another call or with one bit changed does not open,
and nothing in it can be read: not the ODS code, not a digit of the caller's mobile, though
Twilio and every proxy log these URLs. The key is derived from IVR_SECRET_KEY; tokens sealed
under IVR_SECRET_KEY_PREVIOUS still open while the key changes.
"""

from __future__ import annotations

import base64
import json
import logging

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError

from ivr.engine.state import CallState

log = logging.getLogger("ivr.phone_line.tokens")

# The token's own version, its first byte: a later format can be told apart, and refused politely.
# 2: the state's fields under short names. 1 (full names) is still opened, so calls under way at a deploy carry on.
VERSION = b"\x02"
FULL_NAMES = b"\x01"
# The state's fields as named in a token: the URL is carried on every turn, and its field names were most of it.
# A field missing here travels under its full name; a short name, once used, is never given to another field.
SHORT_NAMES: dict[str, str] = {
    "version": "v", "node": "n", "step": "s", "attempts": "a", "slow": "sl", "turn": "t", "ods": "o",
    "mailbox": "mb", "mobile": "m", "home_mobile": "hm", "registered_landline": "rl", "callback": "cb",
    "ticket": "tk", "reason": "r", "candidates": "c", "scenarios": "ss", "texted": "tx", "scenario": "sc",
    "topic": "tp", "resume_node": "rn", "resume_step": "rs", "ended": "e", "history": "h", "last_steps": "ls",
    "keys_told": "kt", "explained": "x", "line": "l",
}  # fmt: skip
_FULL_NAMES = {short: name for name, short in SHORT_NAMES.items()}
# A different label derives a different key from the same secret: the console's sessions use another.
KEY_LABEL = b"ivr: call state in URLs, v1"


def derive_key(secret: str, label: bytes = KEY_LABEL, length: int = 64) -> bytes:
    """A key for one purpose, from the companion's root secret; by default the 512-bit AES-SIV key
    (two AES-256 keys) for call tokens. Each purpose has its own label, so its own key."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(secret.encode())


class Sealer:
    def __init__(self, secret: str, previous: str | None = None) -> None:
        self._current = AESSIV(derive_key(secret))
        self._previous = AESSIV(derive_key(previous)) if previous else None

    def seal(self, state: CallState, call_sid: str) -> str:
        # Only what differs from the defaults, under short names, with short separators: the URL stays short.
        fields = state.model_dump(mode="json", exclude_defaults=True)
        short = {SHORT_NAMES.get(name, name): value for name, value in fields.items()}
        plain = json.dumps(short, separators=(",", ":"))
        sealed = self._current.encrypt(plain.encode(), _associated(call_sid))
        return base64.urlsafe_b64encode(VERSION + sealed).rstrip(b"=").decode()

    def open(self, token: str, call_sid: str) -> CallState | None:
        """The state sealed in `token` for this call, or None for a token we did not seal for it."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        # Only the one spelling we issue: base64 lets the last character's spare bits vary.
        version = raw[:1]
        if version not in (VERSION, FULL_NAMES) or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
            return None
        for key in (self._current, self._previous):
            if key is None:
                continue
            try:
                plain = key.decrypt(raw[1:], _associated(call_sid, version))
            except InvalidTag:
                continue
            try:
                fields = json.loads(plain)
                if version == VERSION and isinstance(fields, dict):
                    fields = {_FULL_NAMES.get(name, name): value for name, value in fields.items()}
                return CallState.model_validate(fields)
            except (ValueError, ValidationError):  # sealed by a release whose state had other fields
                log.warning("a call token opened but its state is not this release's")
                return None
        return None


def _associated(call_sid: str, version: bytes = VERSION) -> list[bytes]:
    return [version, call_sid.encode()]
