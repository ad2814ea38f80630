"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can misbehave.

Faults are planned before a run:
- `rcpt_replies[address]`: replies to RCPT TO for that address, used up in order
  (e.g. ["451 4.3.0 try again later"], then the normal 250);
- `drops_at_data`: how many next DATA commands to answer by closing the connection
  (before the message is transferred: from the client's side, a drop before the
  end of DATA; a drop after the client sent the whole message is `after_data`);
- `after_data`: actions for the next completed messages, in order: "drop" (record
  the message, then close without answering), "451" / "554" (answer with that code),
  "hang" (record it, then never answer);
- `delay`: seconds to wait before answering every message (a slow server).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

DATA = Path(__file__).parent / "data"
CERT, KEY = DATA / "smtp-test-cert.pem", DATA / "smtp-test-key.pem"
USER, PASSWORD = "alex", "s3cret-app-password-9f2c"
UTF8_PASSWORD = "mot-de-passe-été-9f2c"  # a password beyond ASCII (AUTH PLAIN in UTF-8)


def free_port() -> int:
    """A TCP port nobody listens on right now (aiosmtpd 1.4.6 cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """The handler: records messages and plays the planned faults."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    drops_at_data: int = 0
    after_data: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering each completed message
    transactions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        with self.lock:
            planned = self.rcpt_replies.get(address.lower(), [])
            reply = planned.pop(0) if planned else ""
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.transactions += 1
            action = self.after_data.pop(0) if self.after_data else ""
            if action in ("", "drop", "hang"):
                self.received.append(
                    Received(
                        str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.content)
                    )
                )
        if action == "drop":
            assert server.transport is not None
            server.transport.abort()
            return "250 never seen"
        if action == "hang":
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        if action:
            return (
                f"{action} 4.0.0 planned fault" if action.startswith("4") else f"{action} 5.0.0 no"
            )
        return "250 OK: queued"

    def by_recipient(self, address: str) -> list[Received]:
        """Messages received for `address`."""
        return [r for r in self.received if address in r.rcpt_tos]


class _FaultySMTP(SMTP):
    async def smtp_DATA(self, arg: str) -> None:
        recorder: Recorder = self.event_handler
        if recorder.drops_at_data > 0 and self.envelope and self.envelope.rcpt_tos:
            recorder.drops_at_data -= 1
            assert self.transport is not None
            self.transport.abort()
            return
        await super().smtp_DATA(arg)


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == USER
        and data.password.decode() in (PASSWORD, UTF8_PASSWORD)
    )
    return AuthResult(success=ok, handled=False)


class SmtpServer(Controller):
    """aiosmtpd on 127.0.0.1 with the recorder; `tls=True` requires STARTTLS and AUTH."""

    def __init__(self, tls: bool = False, smtputf8: bool = False) -> None:
        self.recorder = Recorder()
        self.tls = tls
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(CERT, KEY)
            kwargs |= {
                "tls_context": context,
                "require_starttls": True,
                "auth_required": True,
                "authenticator": _authenticator,
            }
        super().__init__(self.recorder, hostname="127.0.0.1", port=free_port(), **kwargs)

    def factory(self) -> SMTP:
        return _FaultySMTP(self.handler, **self.SMTP_kwargs)
