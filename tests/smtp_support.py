"""A small SMTP server for the tests, on the standard library's socketserver: real sockets, real SMTP talk.

Enough of RFC 5321 for smtplib (EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET,
NOOP, QUIT), with answers a test can script: refuse the next message with a 4xx or 5xx, refuse a
recipient, or want a password. What it accepted is kept as parsed email messages.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Mailbox:
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)  # scripted answers to the next DATA ends, in turn
    refuse_recipient: str | None = None  # "550 ..." for every RCPT
    credentials: tuple[str, str] | None = None  # wanted by AUTH PLAIN when set
    logins: int = 0


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox
        self.reply("220 test.invalid ESMTP ready")
        sender, recipients, authed = "", [], box.credentials is None
        while line := self.rfile.readline():
            command = line.decode(errors="replace").rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-test.invalid")
                if box.credentials:
                    self.reply("250-AUTH PLAIN")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 test.invalid")
            elif verb == "AUTH":
                given = base64.b64decode(command.split()[-1]).split(b"\0")
                box.logins += 1
                if box.credentials and [part.decode() for part in given[1:]] == list(box.credentials):
                    authed = True
                    self.reply("235 2.7.0 Authentication successful")
                else:
                    self.reply("535 5.7.8 Authentication credentials invalid")
            elif verb == "MAIL":
                if not authed:
                    self.reply("530 5.7.0 Authentication required")
                    continue
                sender, recipients = command.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                self.reply("250 OK")
            elif verb == "RCPT":
                if box.refuse_recipient:
                    self.reply(box.refuse_recipient)
                    continue
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(part[1:] if part.startswith(b"..") else part)
                answer = box.data_answers.pop(0) if box.data_answers else "250 OK queued"
                if answer.startswith("250"):
                    message = message_from_bytes(b"".join(lines), policy=policy.default)
                    assert isinstance(message, EmailMessage)
                    box.received.append(message)
                    box.envelopes.append((sender, recipients))
                self.reply(answer)
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not recognised")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailbox: Mailbox


@contextmanager
def smtp_server(mailbox: Mailbox | None = None) -> Iterator[tuple[int, Mailbox]]:
    """An SMTP server on a free port of 127.0.0.1: its port and what it received."""
    server = _Server(("127.0.0.1", 0), _Session)
    server.mailbox = mailbox or Mailbox()
    thread = threading.Thread(target=server.serve_forever, name="smtp", daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.mailbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
