"""A call's turns answered in front of Flask: POST /voice/turn/<token>, and /voice/turn/<token>/silence.

They are all but one of a call's requests, and each is a few tenths of a millisecond of work, of which
Flask's contexts, routing, hooks and response object were a third. So they are answered here, on the
WSGI request as it comes (within the platform's ProxyFix, so the scheme and host are the public ones),
with the same signature check, the same database deadline, and the same rule as every webhook: whatever
goes wrong, the caller hears an apology and the helpdesk number. Every other request goes on to Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from ivr.engine.turn import Silence
from ivr.phone_line import form as caller_form
from ivr.phone_line.twilio_request import call_sid, log_failure, parameters

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ivr.phone_line.web import PhoneLine

PREFIX = "/voice/turn/"
# What a turn answers with: the status line, the headers and the body, as WSGI wants them.
Answer = tuple[str, list[tuple[str, str]], bytes]


class FastTurns:
    def __init__(self, app: WSGIApplication, line: PhoneLine, max_body: int | None) -> None:
        self.app = app
        self.line = line
        self.max_body = max_body

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith(PREFIX):
            token, slash, rest = path[len(PREFIX) :].partition("/")
            if token and (rest == "silence" or not slash):
                status, headers, body = self.turn(environ, token, silent=rest == "silence")
                start_response(status, headers)
                return [body]
        return self.app(environ, start_response)

    def turn(self, environ: WSGIEnvironment, token: str, *, silent: bool) -> Answer:
        request = Request(environ)
        request.max_content_length = self.max_body  # 413 past it, as Flask's MAX_CONTENT_LENGTH
        line = self.line
        line.deadline.begin_request()  # one deadline for the whole request, as Flask's hook gives the others
        try:
            if line.refuses(request):
                return "403 FORBIDDEN", [("Content-Type", "text/plain"), ("Content-Length", "0")], b""
            form = parameters(request)
            given = Silence() if silent else caller_form.caller_input(form)
            body = line.calls.turn(call_sid(form), form.get("From"), token, given)
        except HTTPException as error:  # the body too large to read: refused, as Flask refuses it
            refusal = error.get_response(environ)
            return refusal.status, refusal.headers.to_wsgi_list(), refusal.get_data()
        except Exception:
            log_failure(request)
            body = line.calls.trouble()
        finally:
            line.deadline.end_request()
        return _twiml(body)


def _twiml(body: str) -> Answer:
    data = body.encode()
    return "200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(data)))], data
