"""The console's pages: an overview, escalations to follow up, texts that need attention, and the audit log.

Each page calls the same library functions as the `ivr` commands (ivr.homes.escalations,
ivr.texts.attention), so the console and the command line cannot disagree. Phone numbers and
ODS codes are masked until revealed, and a reveal is written to the audit log first.
"""

from __future__ import annotations

import csv
import io
from typing import Literal

from flask import Response, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ivr.console.blueprint import blueprint, current
from ivr.console.guard import safe_next
from ivr.content.model import reason_words
from ivr.homes import directory_store, escalations
from ivr.operators import audit
from ivr.phone import mask
from ivr.texts import attention

Show = Literal["open", "closed", "all"]
REVEALABLE = {"escalation": "callback number and ODS code of escalation", "text": "number of text",
              "opt-out": "number that opted out,", "home": "registered mobile of home"}  # fmt: skip
REFUSALS = {
    "opted_out": "Not resent: that number has opted out of texts (it texted STOP).",
    "limit": "Not resent: a daily cap on texts is reached (IVR_SMS_DAILY_PER_MOBILE or IVR_SMS_DAILY_TOTAL). "
             "Try again tomorrow.",
}


@blueprint.app_template_filter("masked")
def masked(number: str | None) -> str:
    """The last three digits only, as in the logs."""
    return mask(number) if number else "none"


@blueprint.app_template_filter("masked_ods")
def masked_ods(code: str | None) -> str:
    return "V****" if code else "none"


@blueprint.app_context_processor
def words() -> dict[str, object]:
    def reason(name: str) -> str:
        if name in ("refused", "leaver", "other"):
            return reason_words(current().content, name)  # type: ignore[arg-type]
        return name

    def revealed(kind: str, item: int | str) -> bool:
        return f"{kind}:{item}" in g.get("revealed", set())

    return {"reason_words": reason, "revealed": revealed, "user": g.get("user")}


@blueprint.get("/")
def overview() -> str:
    store = current().store
    open_ones = escalations.listing(store, only_open=True)
    problems = [text for text in attention.problems(store) if text.resent_as is None]
    return render_template("console/overview.html", open_escalations=open_ones, problems=problems)


def _show() -> Show:
    chosen = request.args.get("show", "open")
    return chosen if chosen in ("open", "closed", "all") else "open"  # type: ignore[return-value]


@blueprint.get("/escalations")
def escalation_list() -> str:
    show = _show()
    found = escalations.listing(current().store, only_open=show == "open", only_closed=show == "closed")
    if show != "open":
        found.reverse()  # the latest closed first; the open ones oldest first, to be dealt with in turn
    return render_template("console/escalations.html", escalations=found, show=show)


@blueprint.get("/escalations.csv")
def escalation_csv() -> Response:
    show = _show()
    store = current().store
    found = escalations.listing(store, only_open=show == "open", only_closed=show == "closed")
    audit.record(store, g.user, "downloaded", f"escalations CSV ({show}, {len(found)} rows, numbers in full)")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(escalations.CSV_COLUMNS)
    writer.writerows(escalations.csv_rows(found))
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="escalations-{show}.csv"'})  # fmt: skip


@blueprint.get("/escalations/<int:escalation_id>")
def escalation(escalation_id: int) -> str:
    found = escalations.one(current().store, escalation_id)
    if found is None:
        abort(404, f"There is no escalation {escalation_id}.")
    return render_template("console/escalation.html", e=found, max_note=escalations.MAX_NOTE)


@blueprint.post("/escalations/<int:escalation_id>/close")
def close_escalation(escalation_id: int) -> BaseResponse:
    store = current().store
    note = request.form.get("note", "")
    if not note.strip():
        flash("Write a note saying what was done before closing it.", "problem")
        return redirect(url_for("console.escalation", escalation_id=escalation_id))
    done = escalations.close(store, escalation_id, note=note, by=g.user)
    if done is None:
        abort(404, f"There is no escalation {escalation_id}.")
    if done:
        audit.record(store, g.user, "closed", f"escalation {escalation_id}")
    flash(f"Escalation {escalation_id} closed." if done else f"Escalation {escalation_id} was already closed.")
    return redirect(url_for("console.escalation_list"))


@blueprint.post("/escalations/<int:escalation_id>/reopen")
def reopen_escalation(escalation_id: int) -> BaseResponse:
    store = current().store
    done = escalations.reopen(store, escalation_id)
    if done is None:
        abort(404, f"There is no escalation {escalation_id}.")
    if done:
        audit.record(store, g.user, "reopened", f"escalation {escalation_id}")
    flash(f"Escalation {escalation_id} reopened." if done else f"Escalation {escalation_id} was already open.")
    return redirect(url_for("console.escalation", escalation_id=escalation_id))


@blueprint.get("/texts")
def texts() -> str:
    store = current().store
    return render_template("console/texts.html", problems=attention.problems(store),
                           opt_outs=attention.opted_out(store))  # fmt: skip


@blueprint.post("/texts/<int:text_id>/resend")
def resend_text(text_id: int) -> BaseResponse:
    store = current().store
    result = attention.resend(store, text_id, current().limits)
    if result.new_id is not None and result.reason is None:
        audit.record(store, g.user, "resent", f"text {text_id} as text {result.new_id}")
        flash(f"Text {text_id} is queued again as text {result.new_id}; the worker sends it shortly.")
    elif result.refusal is not None:
        flash(REFUSALS[result.refusal], "problem")
    else:
        flash(f"Text {text_id}: {result.reason}.", "problem")
    return redirect(url_for("console.texts"))


@blueprint.post("/reveal")
def reveal() -> BaseResponse:
    """Show one item's personal data on the next page only, recorded first with who and when."""
    kind = request.form.get("kind", "")
    item = request.form.get("item", "")
    if kind not in REVEALABLE or not item or len(item) > 40:
        abort(400, "Nothing to reveal.")
    subject = item
    if kind == "home":  # a home's ref means nothing to whoever reads the audit log: name its code
        found = directory_store.by_ref(current().store, item)
        subject = found.ods if found else item
    audit.record(current().store, g.user, "showed", f"{REVEALABLE[kind]} {subject}")
    session["reveal"] = [f"{kind}:{item}"]
    return redirect(safe_next(request.form.get("back")) + f"#{kind}-{item}")


@blueprint.get("/audit")
def audit_log() -> str:
    return render_template("console/audit.html", entries=audit.recent(current().store))


# The blueprint's own handlers, not the app's: the phone line answers errors under /voice with TwiML.
@blueprint.errorhandler(400)
@blueprint.errorhandler(404)
@blueprint.errorhandler(413)
def problem_page(error: HTTPException) -> tuple[str, int]:
    return render_template("console/problem.html", error=error), error.code or 500
