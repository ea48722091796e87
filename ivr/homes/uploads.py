"""A homes file uploaded in the console: read for a dry run, kept until the officer says apply, then applied.

The file is kept in the database between the two requests, not on a web process's disk: the second
request may reach another process or another machine. With it is a digest of the changes the dry run
showed, so that what is applied is what was shown: if the directory changed in between (another
officer, an import from the command line), applying is refused and the dry run is shown again.
Uploads are personal to the account that made them and are forgotten after a day.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePath

from sqlalchemy import delete, insert, select

from ivr.homes import directory_store
from ivr.homes.directory_store import ImportPlan
from ivr.homes.files import HomeFileError, ParsedFile, read_homes
from ivr.store.database import Store, home_uploads, now

KEPT_FOR = timedelta(days=1)


@dataclass(frozen=True)
class DryRun:
    token: str  # what the apply form sends back
    file_name: str
    parsed: ParsedFile
    plan: ImportPlan


@dataclass(frozen=True)
class Applied:
    parsed: ParsedFile | None  # None: no such upload (applied already, or older than a day, or another's)
    plan: ImportPlan | None = None
    file_name: str = ""
    stale: DryRun | None = None  # the directory changed since the dry run: this is the new one to look at


def file_name(given: str) -> str:
    """The name the browser sent, without any folders, for messages: never a path on this machine."""
    name = PurePath(given.replace("\\", "/")).name.strip()
    return name[:200] or "the file"


def read(content: bytes, name: str) -> ParsedFile:
    """The homes in an uploaded file, read as `ivr homes import` reads one. HomeFileError names the file
    as the officer knows it."""
    with tempfile.TemporaryDirectory(prefix="ivr-upload-") as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(content)
        try:
            return read_homes(path)
        except HomeFileError as error:
            raise HomeFileError(str(error).replace(str(path), name)) from None


def dry_run(store: Store, user: str, name: str, content: bytes) -> DryRun:
    """Read the file and work out what it would change, changing nothing; keep it for `apply`."""
    parsed = read(content, name)
    plan = _plan(store, parsed, dry_run=True)
    token = secrets.token_urlsafe(18)
    with store.transaction() as tx:
        tx.connection.execute(delete(home_uploads).where(home_uploads.c.created_at < now() - KEPT_FOR))
        tx.connection.execute(insert(home_uploads).values(token=token, user_name=user, file_name=name,
                                                          content=content, plan=digest(plan),
                                                          created_at=now()))  # fmt: skip
    return DryRun(token=token, file_name=name, parsed=parsed, plan=plan)


def apply(store: Store, user: str, token: str) -> Applied:
    """Apply an upload's dry run, if the directory has not changed since; the upload is then forgotten."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(home_uploads).where(home_uploads.c.token == token, home_uploads.c.user_name == user,
                                       home_uploads.c.created_at >= now() - KEPT_FOR)
        ).first()  # fmt: skip
    if row is None:
        return Applied(parsed=None)
    parsed = read(row.content, row.file_name)
    if digest(_plan(store, parsed, dry_run=True)) != row.plan:
        _forget(store, token)
        return Applied(parsed=parsed, file_name=row.file_name,
                       stale=dry_run(store, user, row.file_name, row.content))  # fmt: skip
    plan = _plan(store, parsed, dry_run=False)
    _forget(store, token)
    return Applied(parsed=parsed, plan=plan, file_name=row.file_name)


def digest(plan: ImportPlan) -> str:
    """The changes a plan makes, as a short fingerprint: the same plan, the same digest."""
    parts = [f"+{home}" for home in plan.added] + [f"~{home}:{','.join(fields)}" for home, fields in plan.changed]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _plan(store: Store, parsed: ParsedFile, *, dry_run: bool) -> ImportPlan:
    return directory_store.import_records(store, parsed.homes, carries_contacts=parsed.layout == "simple",
                                          dry_run=dry_run)  # fmt: skip


def _forget(store: Store, token: str) -> None:
    with store.transaction() as tx:
        tx.connection.execute(delete(home_uploads).where(home_uploads.c.token == token))
