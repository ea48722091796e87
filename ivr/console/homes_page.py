"""The homes pages: find a home, change one detail, upload a file with a dry run first, and print its card.

Addresses name a home by its random ref, never its ODS code, and a search is sent by POST and kept in
the session, never in the address: an ODS code or a postcode typed there would otherwise stay in
browser history and in every proxy's log. Each change goes through ivr.homes (the same functions as
`ivr homes`), and is written to the audit log with what changed, never with the new value.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.console.blueprint import blueprint, current
from ivr.homes import directory_store, uploads
from ivr.homes.directory import Home
from ivr.homes.files import HomeFileError
from ivr.operators import audit

LISTED = 50
MAX_SEARCH = 60
FIELDS = {"name": "Name", "landlines": "Landlines", "mobile": "Registered mobile", "mailbox": "Shared mailbox",
          "postcode": "Postcode"}  # fmt: skip


def home_or_404(ref: str) -> Home:
    """The home a console address names by its ref; a 404 page when there is none (removed meanwhile)."""
    home = directory_store.by_ref(current().store, ref)
    if home is None:
        abort(404, "There is no such home: it may have been removed.")
    return home


@blueprint.get("/homes")
def homes() -> str:
    store = current().store
    search = session.get("home_search") or None
    found = directory_store.homes(store, search=search, limit=LISTED)
    refs = directory_store.ref_of(store, [home.ods for home in found])
    return render_template("console/homes.html", homes=found, refs=refs, search=search or "",
                           total=directory_store.count(store), listed=LISTED)  # fmt: skip


@blueprint.post("/homes/search")
def search_homes() -> BaseResponse:
    """Kept in the session for the next page: an ODS code or a postcode must not travel in an address."""
    text = " ".join(request.form.get("search", "").split())[:MAX_SEARCH]
    if text:
        session["home_search"] = text
    else:
        session.pop("home_search", None)
    return redirect(url_for("console.homes"))


@blueprint.get("/homes/<ref>")
def home(ref: str) -> str:
    found = home_or_404(ref)
    shared = directory_store.shared_landlines(current().store, [found.ods])
    return render_template("console/home.html", home=found, ref=ref, fields=FIELDS, shared=shared)


@blueprint.post("/homes/<ref>/edit")
def edit_home(ref: str) -> BaseResponse:
    """One detail at a time: each form on the home's page sends one field, and only that one changes."""
    found = home_or_404(ref)
    field = request.form.get("field", "")
    if field not in FIELDS:
        abort(400, "That is not a detail of a home that can be changed.")
    value = request.form.get("value", "")
    given: dict[str, object] = {field: [part for part in value.replace(",", ";").split(";") if part.strip()]
                                if field == "landlines" else value}  # fmt: skip
    store = current().store
    done = directory_store.edit(store, found.ods, **given)  # type: ignore[arg-type]
    if done.problem:
        flash(f"{FIELDS[field]} not changed: {done.problem}.", "problem")
    elif done.changed:
        audit.record(store, g.user, "changed", f"home {found.ods}: {', '.join(done.changed)}")
        flash(f"{FIELDS[field]} changed. The next call from this home hears it.")
    else:
        flash(f"{FIELDS[field]} was already that: nothing changed.")
    return redirect(url_for("console.home", ref=ref) + f"#{field}")


@blueprint.route("/homes/upload", methods=["GET", "POST"])
def upload_homes() -> str | tuple[str, int]:
    """A file's dry run: what it would add and change, and its bad rows, before anything is changed."""
    if request.method == "GET":
        return render_template("console/homes_upload.html", run=None, problem=None)
    given = request.files.get("file")
    if given is None or not given.filename:
        return render_template("console/homes_upload.html", run=None, problem="Choose a file to upload."), 400
    name = uploads.file_name(given.filename)
    try:
        run = uploads.dry_run(current().store, g.user, name, given.read())
    except HomeFileError as error:
        return render_template("console/homes_upload.html", run=None, problem=str(error)), 400
    audit.record(current().store, g.user, "dry run", f"homes file {name}: {len(run.plan.added)} to add, "
                                                     f"{len(run.plan.changed)} to change")  # fmt: skip
    return render_template("console/homes_upload.html", run=run, problem=None)


@blueprint.post("/homes/upload/apply")
def apply_upload() -> str | BaseResponse:
    store = current().store
    done = uploads.apply(store, g.user, request.form.get("token", ""))
    if done.parsed is None:
        flash("That upload has been applied already, or is more than a day old. Upload the file again.", "problem")
        return redirect(url_for("console.upload_homes"))
    if done.stale is not None:
        flash("The directory changed since this dry run, so nothing was applied. Here is the dry run again: check "
              "it, then apply it.", "problem")  # fmt: skip
        return render_template("console/homes_upload.html", run=done.stale, problem=None)
    assert done.plan is not None
    audit.record(store, g.user, "imported", f"homes file {done.file_name}: {len(done.plan.added)} added, "
                                            f"{len(done.plan.changed)} changed")  # fmt: skip
    shared = directory_store.shared_landlines(store, [record.ods for record in done.parsed.homes])
    flash(f"Applied: {len(done.plan.added)} added, {len(done.plan.changed)} changed, {done.plan.unchanged} already "
          f"up to date.{' Bad rows were left out.' if done.parsed.bad else ''}")  # fmt: skip
    if shared:
        listed = "; ".join(f"{number} ({' and '.join(owners)})" for number, owners in list(shared.items())[:5])
        flash(f"{len(shared)} landline(s) belong to more than one home, so calls from them will not be recognised "
              f"as any home's (a group's head office, say): {listed}.", "problem")  # fmt: skip
    return redirect(url_for("console.homes"))
