"""The outbox backend (EMAIL.md, backends): each message is its own `.eml` file."""

from __future__ import annotations

from pathlib import Path

from automations.adapters.mail.outbox import OutboxMailer


def test_the_outbox_never_overwrites_an_earlier_email_of_the_same_name(tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path / "outbox")
    name = "thank-dana@northwind.example-1a2b3c4d5e6f"
    first = outbox.send(b"Subject: first\r\n\r\none\r\n", "me@c.example", "dana@n.example", name)
    second = outbox.send(b"Subject: second\r\n\r\ntwo\r\n", "me@c.example", "dana@n.example", name)
    third = outbox.send(b"Subject: third\r\n\r\nthree\r\n", "me@c.example", "dana@n.example", name)
    files = sorted((tmp_path / "outbox").iterdir())
    assert [p.name for p in files] == [f"{name}-2.eml", f"{name}-3.eml", f"{name}.eml"]
    assert [p.read_bytes().split(b"\r\n")[0] for p in files] == [
        b"Subject: second",
        b"Subject: third",
        b"Subject: first",
    ]
    assert (first.detail, second.detail, third.detail) == (
        f"outbox/{name}.eml",
        f"outbox/{name}-2.eml",
        f"outbox/{name}-3.eml",
    )
    assert outbox.written == [tmp_path / "outbox" / f"{name}{n}.eml" for n in ("", "-2", "-3")]
