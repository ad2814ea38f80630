"""Reading one incoming message: reply, bounce, unsubscribe, or an automatic answer."""

from __future__ import annotations

import pytest

from automations.core.replies import Known, classify
from tests.imap_messages import dsn, message

OURS = "<pa.0123@rivera-consulting.example>"
KNOWN = Known(
    partners=frozenset({"priya@stackwise.example", "maya@goldberg.example"}),
    sent_ids={OURS: "priya@stackwise.example"},
    unsubscribe_address="alex@rivera-consulting.example",
)
ME = "alex@rivera-consulting.example"


def test_a_message_from_a_partner_is_a_reply() -> None:
    v = classify(message("Priya <Priya@Stackwise.example>", ME, "Re: hello"), KNOWN)
    assert (v.kind, v.partner_email, v.message_id) == (
        "reply",
        "priya@stackwise.example",
        "<m1@partner.example>",
    )
    assert v.when is not None and v.when.isoformat() == "2026-11-20T09:30:00+00:00"


def test_a_reply_from_another_address_threads_by_in_reply_to() -> None:
    v = classify(message("Sam <sam@stackwise.example>", ME, "Re: hello", in_reply_to=OURS), KNOWN)
    assert (v.kind, v.partner_email) == ("reply", "priya@stackwise.example")


AWAY_DE = "Ich bin nicht im Büro. In dringenden Fällen wenden Sie sich an office@stackwise.example."
AWAY_FR = "Je suis absente. Pour toute urgence, veuillez contacter office@stackwise.example."


@pytest.mark.parametrize(
    ("subject", "headers", "body"),
    [
        ("Out of Office: back Monday", {"Auto-Submitted": "auto-replied"}, "Away."),
        ("Re: hello", {"Auto-Submitted": "auto-generated"}, "Away."),
        ("Abwesenheitsnotiz: Re: hello", {}, AWAY_DE),
        ("Automatische Antwort: hello", {}, AWAY_DE),
        ("Réponse automatique : absent", {}, AWAY_FR),
        ("Re: hello", {"X-Autoreply": "yes"}, "Away."),
        ("Re: hello", {"Precedence": "auto_reply"}, "Away."),
    ],
)
def test_automatic_answers_are_not_replies(
    subject: str, headers: dict[str, str], body: str
) -> None:
    raw = message(
        "Priya <priya@stackwise.example>", ME, subject, in_reply_to=OURS, headers=headers, body=body
    )
    assert classify(raw, KNOWN).kind == "ignored"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Absence of the Q3 numbers",
            "Hi Alex, the Q3 referral numbers are missing. Can you resend?",
        ),
        (
            "Abwesend nächste Woche",
            "Hallo Alex, ich bin nächste Woche im Urlaub. Telefonieren wir vorher?",
        ),
        (
            "Automatic reply: your tool",
            "Alex, the automatic reply your tool sent me was odd. Call me?",
        ),
        ("Out of office drinks?", "Are you coming to the out of office drinks on Friday?"),
    ],
)
def test_a_person_is_never_dropped_for_an_absence_subject(subject: str, body: str) -> None:
    raw = message("Priya <priya@stackwise.example>", ME, subject, in_reply_to=OURS, body=body)
    assert classify(raw, KNOWN).kind == "reply"


def test_auto_submitted_no_is_a_person() -> None:
    raw = message("priya@stackwise.example", ME, "Re: hi", headers={"Auto-Submitted": "no"})
    assert classify(raw, KNOWN).kind == "reply"


def test_a_bounce_of_another_address_threading_to_our_email_blocks_nobody_and_is_no_reply() -> None:
    # EMAIL.md: only the address that failed is blocked; the original Message-ID does not
    # make someone else's failure the partner's.
    v = classify(dsn("someone-else@relay.example", "5.1.1", OURS), KNOWN)
    assert (v.kind, v.partner_email) == ("ignored", "")
    assert "someone-else@relay.example" in v.detail


def test_a_permanent_bounce_for_a_partner_address_without_our_id() -> None:
    v = classify(dsn("maya@goldberg.example", "5.2.1", "<unknown@x>"), KNOWN)
    assert (v.kind, v.partner_email) == ("bounce", "maya@goldberg.example")


def test_a_delay_notice_is_not_a_bounce() -> None:
    assert classify(dsn("maya@goldberg.example", "4.4.1", OURS), KNOWN).kind == "ignored"


def test_unsubscribe_to_our_address_from_a_partner() -> None:
    v = classify(message("maya@goldberg.example", ME, "unsubscribe", body=""), KNOWN)
    assert (v.kind, v.partner_email) == ("unsubscribe", "maya@goldberg.example")


def test_strangers_are_ignored() -> None:
    assert classify(message("news@shop.example", ME, "Sale!"), KNOWN).kind == "ignored"


# --- an opt-out in the partner's own words (issue 12) ------------------------------------------

FOOTER = 'Not the right time? Reply "unsubscribe" and I won\'t write again.'


@pytest.mark.parametrize(
    "body",
    [
        "unsubscribe",
        "Please remove me from your list",
        "Stop",
        "Bitte keine E-Mails mehr",
        "Merci, mais je préfère me désabonner.",
        "Por favor, darme de baja.",
        "Graag afmelden.",
    ],
)
def test_a_reply_asking_to_stop_in_its_own_words_is_an_unsubscribe(body: str) -> None:
    quoted = f"{body}\n\nOn Mon, 30 Nov 2026 at 09:00, Alex wrote:\n> Hi Maya,\n> {FOOTER}\n"
    v = classify(message("Maya <maya@goldberg.example>", ME, "Re: Checking in", body=quoted), KNOWN)
    assert (v.kind, v.partner_email) == ("unsubscribe", "maya@goldberg.example")
    assert v.detail.startswith("asked to stop: ")


@pytest.mark.parametrize(
    "body",
    [
        "Happy to talk, and no, don't unsubscribe me from your newsletter",
        f"Thanks Alex, Tuesday works.\n\nOn Mon, 30 Nov 2026, Alex wrote:\n> {FOOTER}\n",
        f"Thanks Alex, Tuesday works.\n\n> {FOOTER}\n",
        f"Thanks, Tuesday works.\n\n-----Original Message-----\nFrom: Alex\n{FOOTER}\n",
        "Stop by our office next week, we would love to show you the new space.",
    ],
)
def test_an_ordinary_reply_that_mentions_the_word_is_a_reply(body: str) -> None:
    v = classify(message("Maya <maya@goldberg.example>", ME, "Re: Checking in", body=body), KNOWN)
    assert v.kind == "reply"
