"""Every mailer (the outbox folder, the in-memory one, SMTP to aiosmtpd on 127.0.0.1) keeps
the contract jobs rely on (EMAIL.md): the message goes as built, to its recipient and its
copies, and the Delivery says what happened in the words its capabilities give."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from automations.adapters.mail import Mailer
from automations.adapters.mail.memory import MemoryMailer
from automations.adapters.mail.outbox import OutboxMailer
from automations.adapters.mail.smtp import SmtpMailer
from automations.core.vocabulary import Status
from tests.smtp_server import SmtpServer

SENDER = "alex@rivera-consulting.example"
DANA = "dana@northwind.example"
COPY = "notes@rivera-consulting.example"


@dataclass
class Landed:
    """One message as it landed: who it went to and its bytes."""

    recipients: list[str]
    data: bytes


@dataclass
class OpenMailer:
    """A mailer and a way to see what it delivered or wrote."""

    mailer: Mailer
    landed: Callable[[], list[Landed]]


def _message(subject: str, to: str = DANA) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SENDER, to, subject
    msg["Message-ID"] = f"<{subject.replace(' ', '.')}@rivera-consulting.example>"
    msg.set_content("Thank you for sending Marcus our way.\n\nAlex\n")
    return msg.as_bytes(policy=policy.SMTP)


@pytest.fixture(params=["outbox", "memory", "smtp"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenMailer]:
    """Each mailer, with what reached it so far."""
    if request.param == "outbox":
        outbox = OutboxMailer(tmp_path / "outbox")
        yield OpenMailer(outbox, lambda: [Landed([], p.read_bytes()) for p in outbox.written])
    elif request.param == "memory":
        memory = MemoryMailer()
        yield OpenMailer(memory, lambda: _by_message(memory))
    else:
        server = SmtpServer()
        server.start()
        smtp = SmtpMailer(host="127.0.0.1", port=server.port, security="none", timeout=5)
        received = server.recorder.received
        yield OpenMailer(smtp, lambda: [Landed(r.rcpt_tos, r.raw) for r in received])
        smtp.close()
        server.stop()


def _by_message(memory: MemoryMailer) -> list[Landed]:
    """The in-memory mailer keeps one entry per envelope recipient: one Landed per message."""
    out: dict[bytes, Landed] = {}
    for sent in memory.sent:
        out.setdefault(sent.data, Landed([], sent.data)).recipients.append(sent.recipient)
    return list(out.values())


def _parsed(data: bytes) -> EmailMessage:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_a_message_lands_with_its_headers_and_body_as_built(opened: OpenMailer) -> None:
    data = _message("A thank you")
    delivery = opened.mailer.send(data, SENDER, DANA, f"thank-{DANA}")
    (landed,) = opened.landed()
    got, built = _parsed(landed.data), _parsed(data)
    for header in ("From", "To", "Subject", "Message-ID"):
        assert got[header] == built[header]
    assert got.get_content() == built.get_content()
    assert delivery.detail  # the Log's detail column says where it went


def test_the_delivery_says_sent_only_when_the_mailer_delivers(opened: OpenMailer) -> None:
    delivery = opened.mailer.send(_message("A check-in"), SENDER, DANA, f"nurture-{DANA}")
    caps = opened.mailer.capabilities
    assert delivery.status == (Status.SENT if caps.delivers else Status.WRITTEN)
    assert caps.verb == ("sent" if caps.delivers else "written to the outbox")


def test_copies_go_to_the_envelope_and_never_into_the_headers(opened: OpenMailer) -> None:
    data = _message("A thank you with a copy")
    delivery = opened.mailer.send(data, SENDER, DANA, f"thank-{DANA}", copies=(COPY,))
    (landed,) = opened.landed()
    assert COPY not in landed.data.decode()  # a Bcc leaves no trace in the message
    if opened.mailer.capabilities.delivers:
        assert landed.recipients == [DANA, COPY]
    else:  # a file has no envelope: the Log's detail says who would get a copy
        assert delivery.detail.endswith(f"copies to {COPY}")


def test_two_messages_to_one_partner_both_land_in_order(opened: OpenMailer) -> None:
    first, second = _message("First note"), _message("Second note")
    opened.mailer.send(first, SENDER, DANA, f"thank-{DANA}")
    opened.mailer.send(second, SENDER, DANA, f"thank-{DANA}")  # the same name: never replaced
    subjects = [_parsed(m.data)["Subject"] for m in opened.landed()]
    assert subjects == ["First note", "Second note"]


def test_close_then_send_again_still_delivers(opened: OpenMailer) -> None:
    opened.mailer.send(_message("Before close"), SENDER, DANA, f"thank-{DANA}")
    opened.mailer.close()
    opened.mailer.close()  # twice is harmless (a job's `finally` may close what failed)
    opened.mailer.send(_message("After close"), SENDER, DANA, f"thank-{DANA}")
    assert len(opened.landed()) == 2
