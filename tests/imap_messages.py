"""Real-looking incoming messages for the reply and bounce tests."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

WHEN = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def message(
    sender: str,
    to: str,
    subject: str,
    *,
    in_reply_to: str = "",
    ident: str = "<m1@partner.example>",
    headers: dict[str, str] | None = None,
    body: str = "Sounds good, let's talk next week.",
    when: dt.datetime = WHEN,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = ident
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def dsn(recipient: str, status: str, original_id: str, ident: str = "<dsn1@mx.example>") -> bytes:
    """A delivery-status report (RFC 3464) from a mail server."""
    action = "failed" if status.startswith("5") else "delayed"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        "To: alex@rivera-consulting.example\r\n"
        f"Subject: {'Undelivered Mail Returned to Sender' if action == 'failed' else 'Delayed Mail'}\r\n"
        f"Date: {format_datetime(WHEN)}\r\n"
        f"Message-ID: {ident}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {status[0]}50 {status} mailbox unavailable\r\n"
        "\r\n--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nSubject: Checking in\r\n"
        "\r\n--b1--\r\n"
    ).encode()
