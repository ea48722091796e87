"""Console accounts: Argon2 password hashes, a lock-out after repeated failures, and session epochs.

Part of the store's query modules (SQLAlchemy stays here and in store/). A password is never
stored or logged, only its Argon2id hash (argon2-cffi's defaults, the RFC 9106 low-memory
profile); a hash made with older parameters is renewed at the next successful sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update

from ivr.store.database import Store, aware, console_users, now

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 12  # NCSC: length beats complexity rules; a passphrase of three random words passes
MAX_PASSWORD = 1024  # hashing is deliberately slow: an enormous password must not cost more
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)

_hasher = PasswordHasher()
# Checked against when the name is unknown, so a wrong name takes as long as a wrong password
# and the timing does not say which names exist.
_DUMMY = _hasher.hash("not a password anyone has")


class AccountError(ValueError):
    """A name or password a person chose that will not do: the message says why."""


@dataclass(frozen=True)
class Account:
    name: str
    session_epoch: int
    locked_until: datetime | None
    failed_attempts: int
    password_changed_at: datetime


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: `account` when it worked; otherwise whether the account is now locked."""

    account: Account | None
    locked_until: datetime | None = None
    just_locked: bool = False  # this failure was the one that locked it


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise AccountError("a user name is 1 to 64 lower-case letters, digits, dots, dashes or underscores, "
                           "starting with a letter or digit")  # fmt: skip
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters (three random words will do)")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password may have at most {MAX_PASSWORD} characters")
    return password


def add(store: Store, name: str, password: str) -> None:
    """Add an account; AccountError if the name is taken or the name or password will not do."""
    check_name(name)
    hashed = _hasher.hash(check_password(password))
    stamp = now()
    with store.transaction() as tx:
        if tx.connection.execute(select(console_users.c.name).where(console_users.c.name == name)).first():
            raise AccountError(f"there is already a user called {name}")
        tx.connection.execute(insert(console_users).values(name=name, password_hash=hashed, created_at=stamp,
                                                           password_changed_at=stamp))  # fmt: skip


def remove(store: Store, name: str) -> bool:
    with store.transaction() as tx:
        return bool(tx.connection.execute(delete(console_users).where(console_users.c.name == name)).rowcount)


def set_password(store: Store, name: str, password: str) -> bool:
    """A new password; it also unlocks the account and ends its sessions. False if there is no such user."""
    hashed = _hasher.hash(check_password(password))
    with store.transaction() as tx:
        return bool(tx.connection.execute(
            update(console_users).where(console_users.c.name == name).values(
                password_hash=hashed, failed_attempts=0, locked_until=None, password_changed_at=now(),
                session_epoch=console_users.c.session_epoch + 1,
            )
        ).rowcount)  # fmt: skip


def listing(store: Store) -> list[Account]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(console_users).order_by(console_users.c.name)).all()
    return [_account(row) for row in rows]


def find(store: Store, name: str) -> Account | None:
    with store.engine.connect() as connection:
        row = connection.execute(select(console_users).where(console_users.c.name == name)).first()
    return _account(row) if row else None


def sign_in(store: Store, name: str, password: str, *, at: datetime | None = None) -> SignIn:
    """Check a password. Every failure counts; the MAX_FAILURES-th locks the account for LOCK_FOR,
    and while it is locked even the right password is refused (so guessing gains nothing)."""
    stamp = at or now()
    with store.transaction() as tx:
        row = tx.connection.execute(select(console_users).where(console_users.c.name == name)).first()
        if row is None or len(password) > MAX_PASSWORD:
            _verify(_DUMMY, password[:MAX_PASSWORD])
            return SignIn(None)
        locked = aware(row.locked_until) if row.locked_until else None
        if locked is not None and locked > stamp:
            return SignIn(None, locked_until=locked)
        if not _verify(row.password_hash, password):
            failures = row.failed_attempts + 1
            until = stamp + LOCK_FOR if failures >= MAX_FAILURES else None
            tx.connection.execute(update(console_users).where(console_users.c.name == name).values(
                failed_attempts=0 if until else failures, locked_until=until))  # fmt: skip
            return SignIn(None, locked_until=until, just_locked=until is not None)
        values: dict[str, object] = {"failed_attempts": 0, "locked_until": None}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = _hasher.hash(password)
        tx.connection.execute(update(console_users).where(console_users.c.name == name).values(**values))
    return SignIn(find(store, name))


def end_sessions(store: Store, name: str) -> None:
    """Sign out everywhere: sessions carry the epoch they began in, and an older one is refused."""
    with store.transaction() as tx:
        tx.connection.execute(update(console_users).where(console_users.c.name == name)
                              .values(session_epoch=console_users.c.session_epoch + 1))  # fmt: skip


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _account(row: object) -> Account:
    return Account(
        name=row.name, session_epoch=row.session_epoch,  # type: ignore[attr-defined]
        locked_until=aware(row.locked_until) if row.locked_until else None,  # type: ignore[attr-defined]
        failed_attempts=row.failed_attempts,  # type: ignore[attr-defined]
        password_changed_at=aware(row.password_changed_at),  # type: ignore[attr-defined]
    )
