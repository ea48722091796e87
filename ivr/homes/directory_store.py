"""The care-home directory in the database: lookups for calls, and the operator's changes.

Part of the store (SQLAlchemy stays in store.py, outbox.py and here). The phone's
`Directory` reads from here; `ivr homes` imports, adds and removes through here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, delete, func, insert, select, update

from ivr.homes.directory import Home, InMemoryDirectory, keys_for
from ivr.homes.files import BadRow, HomeRecord, record_from_fields
from ivr.store.database import Store, Transaction, care_homes, home_landlines, now
from ivr.store.deadline import Deadline

KEPT = "directory"  # its name in the store's memory


class StoreDirectory:
    """The directory as stored now: each look-up is one small indexed query."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def home(self, ods: str) -> Home | None:
        with self.store.engine.connect() as connection:
            found = _homes(connection, [ods])
        return found[0] if found else None

    def home_for_landline(self, number: str) -> Home | None:
        with self.store.engine.connect() as connection:
            owners = connection.execute(
                select(home_landlines.c.ods).where(home_landlines.c.number == number).limit(2)
            ).scalars().all()
            # A number two homes share (a group's head office) recognises neither: never guess a home.
            if len(owners) != 1:
                return None
            found = _homes(connection, list(owners))
        return found[0] if found else None

    def homes_for_keys(self, keys: str) -> list[Home]:
        with self.store.engine.connect() as connection:
            codes = connection.execute(
                select(care_homes.c.ods).where(care_homes.c.keypad == keys).order_by(care_homes.c.ods)
            ).scalars().all()
            return _homes(connection, list(codes))


class KeptDirectory:
    """The directory the phone line uses: the whole of it, read once every few seconds per process and kept in
    memory (ivr/store/kept.py), so a call's look-ups touch no database. A few thousand homes are a few
    megabytes. A change made in this process is seen at once; one made by another within seconds. Each read
    is made within the webhook's deadline; if it fails, the directory read before is used."""

    def __init__(self, store: Store, deadline: Deadline) -> None:
        self.store = store
        self.deadline = deadline

    def home(self, ods: str) -> Home | None:
        return self._kept().home(ods)

    def home_for_landline(self, number: str) -> Home | None:
        return self._kept().home_for_landline(number)

    def homes_for_keys(self, keys: str) -> list[Home]:
        return self._kept().homes_for_keys(keys)

    def _kept(self) -> InMemoryDirectory:
        def read() -> InMemoryDirectory:
            return self.deadline.run(lambda _still_wanted: InMemoryDirectory(homes(self.store)))

        return self.store.kept.get(KEPT, read)


def homes(store: Store, *, search: str | None = None, limit: int | None = None) -> list[Home]:
    """Homes by ODS code; `search` matches part of the name, code or postcode, in any case."""
    query = select(care_homes.c.ods).order_by(care_homes.c.ods)
    if search:
        text = search.lower()  # autoescape: a % or _ typed is looked for, not a wildcard
        query = query.where(
            func.lower(care_homes.c.name).contains(text, autoescape=True)
            | func.lower(care_homes.c.ods).contains(text, autoescape=True)
            | func.lower(func.coalesce(care_homes.c.postcode, "")).contains(text, autoescape=True)
        )
    if limit:
        query = query.limit(limit)
    with store.engine.connect() as connection:
        return _homes(connection, list(connection.execute(query).scalars()))


def count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(care_homes)).scalar_one())


def add(store: Store, home: Home, *, replace: bool = False) -> Literal["added", "changed", "unchanged", "exists"]:
    """Add a home; one transaction. A home already there with other details is left as it is ("exists")
    unless `replace`, which puts this record in its place whole: landlines and a mobile not given are gone."""
    with _changing(store) as tx:
        plan = _plan(tx.connection, [_record(home)], replace_all=True)
        if plan.changed and not replace:
            return "exists"
        _apply(tx.connection, plan)
    return "added" if plan.added else "changed" if plan.changed else "unchanged"


# The fields `edit` can change, as the console's form and `ivr homes edit` name them.
EDITABLE = ("name", "landlines", "mobile", "mailbox", "postcode")


@dataclass(frozen=True)
class Edit:
    """What an edit did: the home as it is now (None: no such home), the fields it changed, or why it could not."""

    home: Home | None
    changed: tuple[str, ...] = ()
    problem: str | None = None


def edit(
    store: Store,
    ods: str,
    *,
    name: str | None = None,
    landlines: Sequence[str] | None = None,
    mobile: str | None = None,
    mailbox: str | None = None,
    postcode: str | None = None,
) -> Edit:
    """Change the fields given and keep every other: None leaves a field alone, "" (or no landlines) empties it.

    The home as it would be is checked whole, as an import checks a row, so an edit cannot leave a home
    that an import would refuse. One transaction; nothing is written when nothing changes.
    """
    with _changing(store) as tx:
        found = _homes(tx.connection, [ods])
        if not found:
            return Edit(home=None, problem=f"no home with ODS code {ods}")
        old = found[0]
        record = record_from_fields(
            ods=old.ods,
            name=old.name if name is None else name,
            landlines=old.landlines if landlines is None else landlines,
            mobile=(old.mobile or "") if mobile is None else mobile,
            mailbox=(old.mailbox_override or "") if mailbox is None else mailbox,
            postcode=(old.postcode or "") if postcode is None else postcode,
        )  # fmt: skip
        if isinstance(record, BadRow):
            return Edit(home=old, problem=record.reason)
        plan = _plan(tx.connection, [record], replace_all=True)
        _apply(tx.connection, plan)
    if not plan.changed:
        return Edit(home=old)
    new, fields = plan.changed[0]
    return Edit(home=new, changed=tuple("mailbox" if name == "mailbox_override" else name for name in fields))


def ref_of(store: Store, codes: Sequence[str]) -> dict[str, str]:
    """Each home's console reference, by ODS code."""
    found: dict[str, str] = {}
    with store.engine.connect() as connection:
        for start in range(0, len(codes), 500):
            chunk = list(codes[start : start + 500])
            rows = connection.execute(select(care_homes.c.ods, care_homes.c.ref).where(care_homes.c.ods.in_(chunk)))
            found.update((ods, ref) for ods, ref in rows)
    return found


def by_ref(store: Store, ref: str) -> Home | None:
    """The home a console address names, by its reference (never by its ODS code)."""
    with store.engine.connect() as connection:
        ods = connection.execute(select(care_homes.c.ods).where(care_homes.c.ref == ref)).scalar_one_or_none()
        found = _homes(connection, [ods]) if ods else []
    return found[0] if found else None


def remove(store: Store, ods: str) -> bool:
    with _changing(store) as tx:  # the landlines go with it: ON DELETE CASCADE (foreign_keys on SQLite)
        return bool(tx.connection.execute(delete(care_homes).where(care_homes.c.ods == ods)).rowcount)


@dataclass
class ImportPlan:
    """What an import changes: homes to add, homes whose details change (with what), and the rest."""

    added: list[Home] = field(default_factory=list)
    changed: list[tuple[Home, list[str]]] = field(default_factory=list)  # the new home, and the fields that change
    unchanged: int = 0


def shared_landlines(store: Store, codes: Sequence[str]) -> dict[str, list[str]]:
    """The landlines of these homes that another home has too, with every home that has each.

    A call from such a number recognises no home (see home_for_landline), so the operator is told.
    """
    ours, everyone = home_landlines.alias("ours"), home_landlines.alias("everyone")
    owners: dict[str, set[str]] = {}
    with store.engine.connect() as connection:
        for start in range(0, len(codes), 500):  # chunks keep the IN list within every database's limit
            rows = connection.execute(
                select(everyone.c.number, everyone.c.ods).distinct()
                .join(ours, ours.c.number == everyone.c.number)
                .where(ours.c.ods.in_(list(codes[start : start + 500])))
            )  # fmt: skip
            for number, ods in rows:
                owners.setdefault(number, set()).add(ods)
    return {number: sorted(homes) for number, homes in sorted(owners.items()) if len(homes) > 1}


def import_records(
    store: Store, records: Sequence[HomeRecord], *, carries_contacts: bool, dry_run: bool = False
) -> ImportPlan:
    """Bring the directory in line with `records`, all in one transaction, or nothing on a dry run.

    `carries_contacts` says whether the file's layout has mobiles and mailbox overrides (ours
    does; the national CQC and ODS files do not): when it does not, what the operator set by
    hand is kept. Homes not in the file are left alone: a national file is not a member list.
    Importing the same file again changes nothing.
    """
    with _changing(store) as tx:
        plan = _plan(tx.connection, records, replace_all=carries_contacts)
        if not dry_run:
            _apply(tx.connection, plan)
    return plan


# --- internals ---------------------------------------------------------------------------


@contextmanager
def _changing(store: Store) -> Iterator[Transaction]:
    """A transaction that may change the directory: the copy the phone line keeps is forgotten as it ends."""
    try:
        with store.transaction() as tx:
            yield tx
    finally:
        store.kept.forget(KEPT)


def _record(home: Home) -> HomeRecord:
    return HomeRecord(
        ods=home.ods, name=home.name, landlines=home.landlines, mobile=home.mobile,
        mailbox=home.mailbox_override, postcode=home.postcode, line=0,
    )  # fmt: skip


def _homes(connection: Connection, codes: list[str]) -> list[Home]:
    if not codes:
        return []
    found: dict[str, Home] = {}
    landlines: dict[str, list[str]] = {}
    # Chunks keep the IN list within every database's limit on bound parameters.
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for number, ods in connection.execute(
            select(home_landlines.c.number, home_landlines.c.ods)
            .where(home_landlines.c.ods.in_(chunk))
            .order_by(home_landlines.c.number)
        ):
            landlines.setdefault(ods, []).append(number)
        for row in connection.execute(select(care_homes).where(care_homes.c.ods.in_(chunk))):
            found[row.ods] = Home(
                ods=row.ods, name=row.name, landlines=tuple(landlines.get(row.ods, ())), mobile=row.mobile,
                mailbox_override=row.mailbox, postcode=row.postcode,
            )  # fmt: skip
    return [found[code] for code in codes if code in found]


def _merge(old: Home | None, record: HomeRecord, *, replace_all: bool) -> Home:
    """The home as it will be: what the record carries replaces, what it does not is kept.

    A national file with no number for a home says nothing about it, so the landlines the
    operator added are kept; our own file is the operator's word, blanks included.
    """
    keep = old is not None and not replace_all
    if record.landlines is None or (keep and not record.landlines):
        landlines = old.landlines if old else ()
    else:
        landlines = tuple(sorted(record.landlines))
    if keep and old is not None:
        mobile, mailbox = old.mobile, old.mailbox_override
        postcode = record.postcode if record.postcode is not None else old.postcode
    else:
        mobile, mailbox, postcode = record.mobile, record.mailbox, record.postcode
    return Home(ods=record.ods, name=record.name, landlines=landlines, mobile=mobile, mailbox_override=mailbox,
                postcode=postcode)  # fmt: skip


def _plan(connection: Connection, records: Iterable[HomeRecord], *, replace_all: bool) -> ImportPlan:
    records = list(records)
    existing = {home.ods: home for home in _homes(connection, [record.ods for record in records])}
    plan = ImportPlan()
    for record in records:
        old = existing.get(record.ods)
        new = _merge(old, record, replace_all=replace_all)
        if old is None:
            plan.added.append(new)
        elif new != old:
            fields = [name for name in ("name", "landlines", "mobile", "mailbox_override", "postcode")
                      if getattr(new, name) != getattr(old, name)]  # fmt: skip
            plan.changed.append((new, fields))
        else:
            plan.unchanged += 1
    return plan


def _apply(connection: Connection, plan: ImportPlan) -> None:
    stamp = now()
    if plan.added:
        connection.execute(insert(care_homes), [_row(home) | {"created_at": stamp, "updated_at": stamp,
                                                              "ref": secrets.token_urlsafe(9)}
                                                for home in plan.added])  # fmt: skip
    for home, _fields in plan.changed:
        connection.execute(update(care_homes).where(care_homes.c.ods == home.ods).values(
            **_row(home), updated_at=stamp))  # fmt: skip
    changed = [home for home, fields in plan.changed if "landlines" in fields]
    for start in range(0, len(changed), 500):
        chunk = [home.ods for home in changed[start : start + 500]]
        connection.execute(delete(home_landlines).where(home_landlines.c.ods.in_(chunk)))
    numbers = [{"number": number, "ods": home.ods} for home in [*plan.added, *changed] for number in home.landlines]
    if numbers:
        connection.execute(insert(home_landlines), numbers)


def _row(home: Home) -> dict[str, object]:
    return {
        "ods": home.ods, "name": home.name, "keypad": keys_for(home.ods), "mobile": home.mobile,
        "mailbox": home.mailbox_override, "postcode": home.postcode,
    }  # fmt: skip
