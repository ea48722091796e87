"""Who may come in, and the safety every console page has: sign-in, sessions, CSRF tokens and headers.

Every page needs a signed-in account; every POST carries the session's CSRF token; every answer
carries a strict Content-Security-Policy (no script, no inline style) and is never cached, since
pages may show personal data.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Response, abort, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from ivr.console.blueprint import blueprint, current
from ivr.homes.notice import UK
from ivr.operators import accounts, audit

log = logging.getLogger("ivr.console")
IDLE = timedelta(hours=2)  # a session unused this long ends (the cookie's lifetime, renewed on each request)
LONGEST = timedelta(hours=12)  # and none lasts longer than a working day, however busy
CSP = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
OPEN_ENDPOINTS = {"console.sign_in", "console.static"}
UPLOAD_LIMIT = 20 * 1024 * 1024  # the CQC sheet saved as CSV is the largest homes file an officer would upload


@blueprint.before_request
def guard() -> BaseResponse | None:
    if request.endpoint == "console.upload_homes" and session.get("user"):
        # A homes file, larger than any form: allowed before it is read, and only to a signed-in session,
        # so nobody else can make the console read 20 MB (the sign-in is checked in full below).
        request.max_content_length = UPLOAD_LIMIT
    if request.method == "POST":
        expected = session.get("csrf", "")  # the session first: without one, the body is never parsed
        given = request.form.get("csrf_token", "") if expected else ""
        if not (given and expected and hmac.compare_digest(given, expected)):
            log.warning("console: refused a %s to %s without a valid CSRF token", request.method, request.path)
            abort(400, "This form has expired or did not come from the console. Go back, reload the page and try "
                       "again.")  # fmt: skip
    g.user = None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    name = session.get("user")
    account = accounts.find(current().store, name) if isinstance(name, str) else None
    began = session.get("since", 0)
    if (account is None or session.get("epoch") != account.session_epoch
            or not isinstance(began, int | float) or time.time() - began > LONGEST.total_seconds()):  # fmt: skip
        session.clear()
        return redirect(url_for("console.sign_in", next=request.full_path if request.method == "GET" else None))
    g.user = account.name
    # Revealed numbers show once, on the page the reveal returns to, then are masked again.
    g.revealed = set(session.pop("reveal", []))
    return None


@blueprint.after_request
def headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"  # personal data must not stay in a shared browser's cache
    return response


@blueprint.app_context_processor
def helpers() -> dict[str, object]:
    return {"csrf_token": csrf_token, "uk_time": uk_time}


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def uk_time(stamp: object, with_date: bool = True) -> str:
    if not isinstance(stamp, datetime):
        return ""
    local = stamp.astimezone(UK)
    return local.strftime("%-d %b %Y, %H:%M") if with_date else local.strftime("%H:%M")


def safe_next(target: str | None) -> str:
    """Only a path inside the console: a crafted link must not send the officer elsewhere after signing in."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("console.overview")


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> BaseResponse | tuple[str, int]:
    problem = None
    name = ""
    if request.method == "POST":
        name = request.form.get("name", "").strip().lower()
        password = request.form.get("password", "")
        store = current().store
        result = accounts.sign_in(store, name, password)
        if result.account is not None:
            target = safe_next(request.form.get("next"))
            session.clear()  # a new session for the new sign-in: nothing carried over from before
            session.permanent = True
            session.update(user=result.account.name, epoch=result.account.session_epoch, since=int(time.time()),
                           csrf=secrets.token_urlsafe(32))  # fmt: skip
            audit.record(store, result.account.name, "signed in", "console")
            log.info("console: %s signed in", result.account.name)
            return redirect(target)
        if result.locked_until is not None:
            if result.just_locked:
                audit.record(store, name, "locked out", "too many wrong passwords")
            problem = (f"This account is locked after {accounts.MAX_FAILURES} wrong passwords in a row. Try again "
                       f"after {uk_time(result.locked_until, with_date=False)}, or ask for a new password "
                       "(ivr console set-password).")  # fmt: skip
        else:
            problem = (f"That name and password do not match an account. After {accounts.MAX_FAILURES} wrong "
                       "passwords in a row the account is locked for 15 minutes.")  # fmt: skip
        log.warning("console: a sign-in failed%s", " (the account is locked)" if result.locked_until else "")
    page = render_template("console/sign_in.html", problem=problem, name=name, next=request.values.get("next", ""),
                           signed_out=request.args.get("signed_out") == "1")  # fmt: skip
    return page, 401 if problem else 200


@blueprint.post("/sign-out")
def sign_out() -> BaseResponse:
    if g.user:
        accounts.end_sessions(current().store, g.user)  # a copy of the cookie elsewhere stops working too
        audit.record(current().store, g.user, "signed out", "console")
    session.clear()
    return redirect(url_for("console.sign_in", signed_out=1))
