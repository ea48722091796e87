"""What every webhook needs of its request, under Flask or before it (fast_turns.py): Twilio's parameters,
parsed once; the URL Twilio signed; and whether Twilio signed it.

Each takes the request itself, a Werkzeug request, which Flask's is one of.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from werkzeug.wrappers import Request

from ivr.phone_line import form as caller_form
from ivr.phone_line.signature import Signatures

log = logging.getLogger("ivr.phone_line.web")
FORM = "ivr.twilio_form"  # where a request's parsed parameters are kept, in its WSGI environ
MAX_FIELDS = 200  # Twilio sends a few dozen; past this, no form of Twilio's (a ValueError, so a 403)


def parameters(request: Request) -> Mapping[str, str]:
    """The webhook's parameters, parsed once a request: the first value of each name, as signed.

    Twilio posts a short urlencoded form. Werkzeug's general form parser (streams, multipart, a MultiDict)
    took about 0.1 ms a request for it, as long as everything else a turn does together; the standard
    library's parser takes a third of that. The body is still read within the request's max_content_length
    (413 past it), and any other content type is an empty form, which no signature matches.
    """
    form: dict[str, str] | None = request.environ.get(FORM)
    if form is None:
        form = {}
        if request.mimetype == "application/x-www-form-urlencoded":
            body = request.get_data(cache=True).decode("utf-8", "replace")
            for name, value in parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS):
                form.setdefault(name, value)
        request.environ[FORM] = form
    return form


def signed(request: Request, signatures: Signatures, base: str | None) -> bool:
    """Whether Twilio signed this request with our auth token; the log says why not."""
    signature = request.headers.get("X-Twilio-Signature")
    # An unsigned request is refused before its body is read; a signed one's body is read within
    # max_content_length (413 past it), since the parameters are part of what is signed.
    try:
        valid = signature is not None and signatures.valid(public_url(request, base), parameters(request), signature)
    except (TypeError, ValueError):  # a malformed URL or parameter: nothing Twilio signed
        valid = False
    if not valid:
        log.warning("refused %s %s from %s: %s Twilio signature", caller_form.logged(request.method),
                    caller_form.logged(request.path), caller_form.logged(request.remote_addr),
                    "no" if signature is None else "a wrong")  # fmt: skip
    return valid


def log_failure(request: Request) -> None:
    """Log the exception a webhook failed with, naming its call as far as its form was parsed: the failure
    may have been the parsing itself, so it is not parsed again here."""
    form = request.environ.get(FORM) or {}
    log.exception("webhook %s failed for call %s", caller_form.logged(request.path),
                  caller_form.logged(form.get("CallSid")))  # fmt: skip


def public_url(request: Request, base: str | None) -> str:
    """The URL Twilio signed: the public address it called, with the path and query as sent.

    Werkzeug's request.url decodes escapes such as %27, which changes the signed string,
    so the URL is rebuilt from the raw request line.
    """
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith(("http://", "https://")):  # an absolute-form request line
        parts = urlsplit(raw)
        raw = parts.path + (f"?{parts.query}" if parts.query else "")
    if not raw:
        query = environ.get("QUERY_STRING", "")
        raw = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")
    if base:
        return base + raw
    return f"{request.scheme}://{request.host}{raw}"


def call_sid(form: Mapping[str, Any]) -> str:
    sid = str(form.get("CallSid", "")).strip()
    if not sid or len(sid) > 64 or not sid.isprintable():  # it goes into log lines
        raise ValueError("a voice request without a usable CallSid")
    return sid
