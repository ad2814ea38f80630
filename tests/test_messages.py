"""Messages: the headers a partner's mail program sees, and values that cannot be headers."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.core.mail.draft import Draft
from automations.core.mail.letterhead import Sender
from automations.core.messages import build_message, message_id
from automations.core.render import Rendered
from automations.errors import HeaderProblem

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
SENDER = Sender(name="Alex Rivera", email="alex@rivera.example", signature="Alex")
UNSUB = {
    "address": "alex@rivera.example",
    "mailto": "mailto:alex@rivera.example?subject=unsubscribe",
    "url": "",
}
RENDERED = Rendered(subject="Checking in", text="Hi Zoë,\n", html="<p>Hi Zoë,</p>")


def draft(**kwargs: Any) -> Draft:
    values: dict[str, Any] = {
        "kind": "nurture",
        "template": "nurture",
        "to_email": "zoe@nunez.example",
        "to_name": "Zoë Ñúñez",
        "keys": ("nurture:zoe@nunez.example:2026-08-01",),
        "key_partners": ("zoe@nunez.example",),
        "context": {},
    }
    values.update(kwargs)
    return Draft(**values)


def parsed(d: Draft, sender: Sender = SENDER, unsub: dict[str, str] = UNSUB) -> Any:
    msg = build_message(d, RENDERED, sender, unsub, NOW)
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


def test_a_partner_email_has_every_header_and_both_parts() -> None:
    m = parsed(draft())
    assert m["From"].addresses[0].display_name == "Alex Rivera"
    assert m["To"].addresses[0].display_name == "Zoë Ñúñez"
    assert m["To"].addresses[0].addr_spec == "zoe@nunez.example"
    assert m["Subject"] == "Checking in"
    assert m["Date"].datetime == NOW
    assert m["Message-ID"] == message_id(("nurture:zoe@nunez.example:2026-08-01",), SENDER.email)
    assert m["Message-ID"].endswith("@rivera.example>")
    assert m["List-Unsubscribe"] == "<mailto:alex@rivera.example?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in m
    assert "Auto-Submitted" not in m
    assert "Reply-To" not in m
    assert m.get_content_type() == "multipart/alternative"
    assert m.get_body(("plain",)).get_content().splitlines() == ["Hi Zoë,"]
    assert m.get_body(("html",)).get_content().strip() == "<p>Hi Zoë,</p>"


def test_non_ascii_names_are_encoded_on_the_wire() -> None:
    raw = build_message(draft(), RENDERED, SENDER, UNSUB, NOW).as_bytes()
    assert raw.isascii()
    assert b"=?utf-8?" in raw


def test_one_click_unsubscribe_when_a_url_is_configured() -> None:
    m = parsed(draft(), unsub={**UNSUB, "url": "https://rivera.example/unsub"})
    assert m["List-Unsubscribe"] == (
        "<mailto:alex@rivera.example?subject=unsubscribe>, <https://rivera.example/unsub>"
    )
    assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_reply_to_is_set_when_configured() -> None:
    sender = Sender(name="Alex", email="alex@rivera.example", reply_to="hi@rivera.example")
    assert parsed(draft(), sender=sender)["Reply-To"] == "hi@rivera.example"


def test_escalations_are_marked_auto_generated_and_have_no_unsubscribe() -> None:
    m = parsed(draft(kind="escalation", template="escalation", to_email="alex@rivera.example"))
    assert m["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in m


def test_a_follow_up_threads_under_its_outreach() -> None:
    m = parsed(
        draft(
            kind="follow_up",
            thread_message_id="<pa.abc@rivera.example>",
            thread_subject="Quick hello from Alex",
        )
    )
    assert m["In-Reply-To"] == "<pa.abc@rivera.example>"
    assert m["References"] == "<pa.abc@rivera.example>"
    assert m["Subject"] == "Re: Quick hello from Alex"


def test_the_message_id_depends_only_on_the_keys_not_their_order() -> None:
    a = message_id(("k1", "k2"), "x@d.example")
    assert a == message_id(("k2", "k1"), "x@d.example")
    assert a != message_id(("k1",), "x@d.example")


@pytest.mark.parametrize("bad", ["Zoë\r\nBcc: victim@example.com", "Zoë\nX: y", "a\rb"])
def test_a_line_break_in_a_name_never_reaches_a_header(bad: str) -> None:
    with pytest.raises(HeaderProblem, match="line break"):
        build_message(draft(to_name=bad), RENDERED, SENDER, UNSUB, NOW)


def test_a_line_break_in_the_subject_never_reaches_a_header() -> None:
    rendered = Rendered(subject="Hi\r\nBcc: x@y.example", text="t", html="h")
    with pytest.raises(HeaderProblem, match="subject"):
        build_message(draft(), rendered, SENDER, UNSUB, NOW)


# Names as people type them: any letters, marks, digits, punctuation, symbols and spaces.
NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=60
)


@given(NAMES)
def test_any_single_line_name_survives_the_round_trip(name: str) -> None:
    try:
        m = parsed(draft(to_name=name))
    except HeaderProblem:
        return  # refused with a message, never sent garbled
    assert m["To"].addresses[0].addr_spec == "zoe@nunez.example"
    expected = " ".join(name.split())
    if expected.isascii():
        assert m["To"].addresses[0].display_name == expected
        return
    # CPython's header parser adds a space between folded encoded-words (a stdlib bug), so
    # decode the wire form the way RFC 2047 says, as mail programs do.
    raw = build_message(draft(to_name=name), RENDERED, SENDER, UNSUB, NOW).as_bytes()
    wire = message_from_bytes(raw, policy=policy.compat32)["To"]
    decoded = str(make_header(decode_header(wire)))
    if set(expected) & set('"\\<>()[],;:@'):  # specials come back quoted
        return
    if len(wire.splitlines()) == 1:
        assert decoded == f"{expected} <zoe@nunez.example>"
    else:
        # Folding a long name over encoded-words can put a space inside one (CPython
        # gh-144156, fixed upstream in 2026, not in 3.11): every character still arrives.
        assert decoded.replace(" ", "") == f"{expected}<zoe@nunez.example>".replace(" ", "")
