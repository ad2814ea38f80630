"""SmtpMailer against a real aiosmtpd server on 127.0.0.1: outcomes, retries, TLS, login."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from automations.adapters.mail.smtp import SmtpMailer
from automations.errors import MailError
from tests.smtp_server import CERT, PASSWORD, USER, SmtpServer, free_port

FROM = "alex@rivera.example"


def message(n: int = 1, to: str = "pat@partner.example") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = FROM
    msg["To"] = to
    msg["Subject"] = f"Message {n}"
    msg["Message-ID"] = f"<m{n}@rivera.example>"
    msg.set_content(f"Body {n}\n.leading dot survives\n")
    return msg


def mailer(server: SmtpServer, **kwargs: Any) -> SmtpMailer:
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "timeout": 5.0,
        "backoff": 0.01,
    }
    if server.tls:
        options.update(security="starttls", username=USER, password=PASSWORD, ca_file=str(CERT))
    options.update(kwargs)
    return SmtpMailer(**options)


def test_messages_go_over_one_connection(smtp_server: SmtpServer) -> None:
    m = mailer(smtp_server)
    outcomes = [
        m.send(message(n).as_bytes(), FROM, "pat@partner.example", "t").status for n in range(5)
    ]
    m.close()
    assert outcomes == ["sent"] * 5
    assert m.connections == 1
    got = smtp_server.recorder.received
    assert [r.message["Subject"] for r in got] == [f"Message {n}" for n in range(5)]
    assert got[0].message.get_content().splitlines() == ["Body 0", ".leading dot survives"]


def test_starttls_and_login_work_against_a_server_that_requires_both(
    tls_smtp_server: SmtpServer,
) -> None:
    m = mailer(tls_smtp_server)
    assert m.send(message().as_bytes(), FROM, "pat@partner.example", "t").status == "sent"
    m.close()
    assert len(tls_smtp_server.recorder.received) == 1


def test_a_wrong_password_stops_the_run_with_a_clear_message(tls_smtp_server: SmtpServer) -> None:
    m = mailer(tls_smtp_server, password="wrong")
    with pytest.raises(MailError) as caught:
        m.send(message().as_bytes(), FROM, "pat@partner.example", "t")
    text = str(caught.value)
    assert f"127.0.0.1:{tls_smtp_server.port} refused the login of 'alex'" in text
    assert "PARTNERS_SMTP_PASSWORD" in text
    assert "wrong" not in text
    assert not tls_smtp_server.recorder.received


def test_an_untrusted_certificate_is_named(tls_smtp_server: SmtpServer) -> None:
    m = mailer(tls_smtp_server, ca_file="")
    with pytest.raises(MailError, match=r"TLS certificate of 127\.0\.0\.1:\d+ is not trusted"):
        m.send(message().as_bytes(), FROM, "pat@partner.example", "t")


def test_nobody_listening_is_a_connection_error_after_the_retries() -> None:
    port = free_port()
    m = SmtpMailer(host="127.0.0.1", port=port, security="none", timeout=2, backoff=0.01)
    with pytest.raises(MailError, match=f"cannot connect to the SMTP server 127.0.0.1:{port}"):
        m.send(message().as_bytes(), FROM, "pat@partner.example", "t")


def test_a_451_is_retried_and_the_message_arrives_once(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.rcpt_replies["pat@partner.example"] = ["451 4.3.0 try again later"]
    m = mailer(smtp_server)
    delivery = m.send(message().as_bytes(), FROM, "pat@partner.example", "t")
    m.close()
    assert delivery.status == "sent"
    assert len(smtp_server.recorder.received) == 1


def test_a_451_after_data_is_retried_and_the_message_arrives_once(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.recorder.after_data = ["451"]
    m = mailer(smtp_server)
    assert m.send(message().as_bytes(), FROM, "pat@partner.example", "t").status == "sent"
    assert len(smtp_server.recorder.received) == 1


def test_a_lasting_4xx_fails_the_message_without_blocking_the_address(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.recorder.rcpt_replies["pat@partner.example"] = ["450 4.2.1 busy"] * 3
    delivery = mailer(smtp_server).send(message().as_bytes(), FROM, "pat@partner.example", "t")
    assert delivery.status == "failed"
    assert delivery.detail.startswith("temporary failure, gave up after 3 tries")


def test_a_550_for_one_recipient_fails_only_that_message(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.rcpt_replies["gone@partner.example"] = ["550 5.1.1 no such user"]
    m = mailer(smtp_server)
    first = m.send(message(1, "gone@partner.example").as_bytes(), FROM, "gone@partner.example", "t")
    second = m.send(message(2).as_bytes(), FROM, "pat@partner.example", "t")
    assert (first.status, first.detail) == ("failed", "550 5.1.1 no such user")
    assert second.status == "sent"
    assert [r.rcpt_tos for r in smtp_server.recorder.received] == [["pat@partner.example"]]


def test_a_drop_before_the_end_of_data_reconnects_and_sends_once(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.drops_at_data = 1
    m = mailer(smtp_server)
    assert m.send(message().as_bytes(), FROM, "pat@partner.example", "t").status == "sent"
    assert m.connections == 2
    assert len(smtp_server.recorder.received) == 1


def test_a_drop_after_data_is_uncertain_and_not_retried(smtp_server: SmtpServer) -> None:
    smtp_server.recorder.after_data = ["drop"]
    m = mailer(smtp_server)
    delivery = m.send(message().as_bytes(), FROM, "pat@partner.example", "t")
    assert delivery.status == "uncertain"
    assert "after the message was sent" in delivery.detail
    assert smtp_server.recorder.transactions == 1
    assert m.send(message(2).as_bytes(), FROM, "pat@partner.example", "t").status == "sent"


def test_a_server_that_never_answers_the_end_of_data_is_uncertain(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.recorder.after_data = ["hang"]
    delivery = mailer(smtp_server, timeout=1.0).send(
        message().as_bytes(), FROM, "pat@partner.example", "t"
    )
    assert delivery.status == "uncertain"
    assert smtp_server.recorder.transactions == 1


def test_pacing_spaces_the_messages_by_max_per_minute(smtp_server: SmtpServer) -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    m = mailer(smtp_server, max_per_minute=30, sleep=sleep, clock=lambda: now[0])
    for n in range(3):
        m.send(message(n).as_bytes(), FROM, "pat@partner.example", "t")
        now[0] += 0.5
    assert waits == [pytest.approx(1.5), pytest.approx(1.5)]


@pytest.mark.parametrize("ca_file", ["missing.pem", "not-a-certificate.pem"])
def test_a_ca_file_that_cannot_be_used_is_named_not_a_traceback(
    tls_smtp_server: SmtpServer, tmp_path: Path, ca_file: str
) -> None:
    (tmp_path / "not-a-certificate.pem").write_text("[mail]\nhost = 'x'\n")
    m = mailer(tls_smtp_server, ca_file=str(tmp_path / ca_file))
    with pytest.raises(MailError, match=rf"\[mail\] ca_file .*{ca_file} cannot be used") as caught:
        m.send(message().as_bytes(), FROM, "pat@partner.example", "t")
    assert "a PEM file" in str(caught.value)
    assert not tls_smtp_server.recorder.received
