"""smtplib's DATA step, remembering whether the final "." left this machine: after it, a
lost connection means the message may have been accepted (`uncertain`, never resent);
before it, the server cannot have it (EMAIL.md, at most once)."""

from __future__ import annotations

import re
import smtplib
from typing import Any

_LEADING_DOT = re.compile(rb"(?m)^\.")
_LINE_END = re.compile(rb"\r\n|\n|\r(?!\n)")


class TrackedData:
    """smtplib's DATA, remembering whether the final "." left this machine."""

    end_of_data_sent = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        conn: Any = self
        self.end_of_data_sent = False
        conn.putcmd("data")
        code, reply = conn.getreply()
        if code != 354:
            return code, reply
        body = _LEADING_DOT.sub(b"..", _LINE_END.sub(b"\r\n", msg))
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body + b".\r\n")
        self.end_of_data_sent = True
        code, reply = conn.getreply()
        return code, reply


class PlainSmtp(TrackedData, smtplib.SMTP):
    """A plain or STARTTLS connection that knows whether its last DATA was sent whole."""


class SslSmtp(TrackedData, smtplib.SMTP_SSL):
    """An implicit-TLS connection that knows whether its last DATA was sent whole."""
