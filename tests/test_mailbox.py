"""Reading the inbox (a real IMAP server on 127.0.0.1) before deciding who to email."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from automations.cli import main
from automations.core.messages import message_id
from automations.demo.workbook import SENDER
from tests.conftest import ImapServer, use_imap, use_smtp
from tests.imap_messages import dsn, message
from tests.projects import SheetProject
from tests.smtp_server import SmtpServer, free_port

PRIYA = "priya@stackwise.example"  # the sample's prospect whose follow-up is due today
OUTREACH_ID = message_id((f"campaign:platforms-2026:{PRIYA}",), SENDER)
RECENT = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    return SheetProject(tmp_path)


def run(
    project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out, err


def ours(project: SheetProject, status: str) -> list[dict[str, Any]]:
    return [r for r in project.log_rows() if r["status"] == status and r["run_id"] != "history"]


def sams_reply_waits(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SMTP and IMAP on, and Priya's colleague's answer to the outreach in the inbox."""
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(
        message(
            "Sam Okoro <sam@stackwise.example>",
            SENDER,
            "Re: Quick hello",
            in_reply_to=OUTREACH_ID,
            when=RECENT,
        )
    )


def test_a_reply_stops_the_follow_up_and_is_logged_once(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sams_reply_waits(project, imap_server, smtp_server, monkeypatch)
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    assert "Inbox: 1 reply(ies), 0 bounce(s), 0 unsubscribe(s) read; 1 new in the Log" in out
    assert not smtp_server.recorder.by_recipient(PRIYA)
    for _ in range(2):
        run(project, capsys, "nurture", "--send")
    replies = ours(project, "reply")
    assert [(r["partner_email"], r["key"]) for r in replies] == [(PRIYA, "<m1@partner.example>")]
    assert not smtp_server.recorder.by_recipient(PRIYA)


def test_partners_check_reads_the_inbox_writes_nothing_and_says_so(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Issue 22, item 7: check said "1 new in the Log" after reading the inbox.
    sams_reply_waits(project, imap_server, smtp_server, monkeypatch)
    before = project.log_rows()
    code, out, err = run(project, capsys, "check")
    assert "read; 1 to record with the next sending run (nothing written now)" in out
    assert "new in the Log" not in out
    assert project.log_rows() == before
    assert not (project / "state" / "journal.sqlite3").exists() or not ours(project, "reply")
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 0 and "1 new in the Log" in out, err


def test_automatic_answers_and_delays_change_nothing(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(
        message(
            f"Priya <{PRIYA}>",
            SENDER,
            "Out of office",
            ident="<a1@x>",
            headers={"Auto-Submitted": "auto-replied"},
            when=RECENT,
        )
    )
    imap_server.append(
        message(
            f"Priya <{PRIYA}>",
            SENDER,
            "Abwesenheitsnotiz: Re: Quick hello",
            ident="<a2@x>",
            in_reply_to=OUTREACH_ID,
            when=RECENT,
            # the subject alone is not enough (EMAIL.md): the body says it too
            body="Ich bin nicht im Büro. In dringenden Fällen: office@stackwise.example.",
        )
    )
    imap_server.append(dsn(PRIYA, "4.4.1", OUTREACH_ID, ident="<a3@x>"))
    code, out, _ = run(project, capsys, "nurture", "--send")
    assert code == 0
    assert "follow_up-priya@stackwise.example" in out  # the follow-up still goes
    assert not ours(project, "reply") and not ours(project, "bounce")


def test_a_bounce_blocks_the_partner_for_good(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(dsn(PRIYA, "5.1.1", OUTREACH_ID))
    code, out, _ = run(project, capsys, "nurture", "--send")
    assert code == 0
    assert "priya" not in out.split("Inbox:")[0]  # nothing written to her
    health = project.health()[PRIYA]
    assert health["action"] == "blocked" and "bounced" in str(health["reason"])
    run(project, capsys, "nurture", "--send")
    assert not any(
        p.name.startswith(("follow_up-priya", "nurture-priya"))
        for p in (project / "outbox").glob("*.eml")
    )
    assert [r["detail"] for r in ours(project, "bounce")] == [f"5.1.1 {PRIYA}"]


def test_an_unsubscribe_blocks_the_partner(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(
        message(
            "maya@goldberg.example", SENDER, "unsubscribe", ident="<u1@x>", body="", when=RECENT
        )
    )
    run(project, capsys, "nurture", "--send")
    assert project.health()["maya@goldberg.example"]["action"] == "blocked"
    assert not list((project / "outbox").glob("nurture-maya*"))
    assert [r["partner_email"] for r in ours(project, "unsubscribe")] == ["maya@goldberg.example"]


def test_an_unreachable_inbox_holds_back_follow_ups_only(
    project: SheetProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = ImapServer(free_port(), None)
    use_imap(project, dead, monkeypatch, timeout=2.0)
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 1
    assert f"cannot connect to the IMAP server 127.0.0.1:{dead.port}" in err
    assert "1 follow-up(s) held back until the inbox can be read" in err
    assert "follow_up-" not in out
    assert "thank-dana@northwind.example" in out  # the thank-you still goes
    assert not ours(project, "skipped")  # held back, not given up: due again next run


def test_health_says_when_the_inbox_cannot_be_read(
    project: SheetProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = ImapServer(free_port(), None)
    use_imap(project, dead, monkeypatch, timeout=2.0)
    code, out, err = run(project, capsys, "health")
    assert code == 0 and "Health written" in out
    assert f"partners: cannot connect to the IMAP server 127.0.0.1:{dead.port}" in err
    assert "replies in it are not counted in Health" in err


def test_an_unreachable_inbox_that_is_not_required_only_warns(
    project: SheetProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_imap(project, ImapServer(free_port(), None), monkeypatch, timeout=2.0, required=False)
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 0
    assert "going on ([imap] required = false)" in err
    assert "follow_up-priya" in out


def test_replies_command_records_and_a_wrong_password_is_named(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(message(f"<{PRIYA}>", SENDER, "Re: hello", when=RECENT))
    code, out, _ = run(project, capsys, "replies")
    assert code == 0 and "1 new in the Log" in out
    code, out, _ = run(project, capsys, "replies")
    assert code == 0 and "0 new in the Log" in out
    monkeypatch.setenv("PARTNERS_IMAP_PASSWORD", "wrong-secret")
    code, _, err = run(project, capsys, "replies")
    assert code == 2
    assert f"refused the login of '{imap_server.user}'" in err and "wrong-secret" not in err


def test_sent_copies_are_filed_and_an_uncertain_send_found_there_is_settled(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch, save_sent=True)
    smtp_server.recorder.after_data = ["drop"]  # the first email (the escalation) is uncertain
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 1 and "uncertain: escalation" in err
    filed = imap_server.message_ids("Sent")
    assert len([i for i in filed if i.startswith("<pa.")]) == 9  # the sent ones, not the uncertain
    escalation = smtp_server.recorder.received[0].message["Message-ID"]
    imap_server.append(smtp_server.recorder.received[0].raw, folder="Sent")  # it did go out
    assert escalation in imap_server.message_ids("Sent")
    code, _, err = run(project, capsys, "check")
    assert "uncertain:" in err
    run(project, capsys, "nurture", "--send")
    code, _, err = run(project, capsys, "check")
    assert "uncertain:" not in err
    assert any("found in Sent" in r["detail"] for r in ours(project, "sent"))


def test_an_uncertain_send_is_settled_from_a_sent_folder_the_provider_fills_itself(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Gmail files what goes through its SMTP in Sent by itself: no `save_sent` is set.
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch)
    smtp_server.recorder.after_data = ["drop"]
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 1 and "uncertain: escalation" in err
    assert not [i for i in imap_server.message_ids("Sent") if i.startswith("<pa.")]
    imap_server.append(smtp_server.recorder.received[0].raw, folder="Sent")  # the provider's copy
    run(project, capsys, "nurture", "--send")
    code, _, err = run(project, capsys, "check")
    assert "uncertain:" not in err
    assert any("found in Sent" in r["detail"] for r in ours(project, "sent"))


def test_a_new_uidvalidity_rescans_the_window_without_logging_twice(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from automations.adapters.state import Journal

    use_imap(project, imap_server, monkeypatch)
    imap_server.append(message(f"<{PRIYA}>", SENDER, "Re: hello", when=RECENT))
    run(project, capsys, "replies")
    journal = Journal(project / "state" / "journal.sqlite3")
    journal.set_inbox_cursor("INBOX", 12345, 99999)  # as if the server renumbered the folder
    journal.close()
    code, out, _ = run(project, capsys, "replies")
    assert code == 0 and "1 reply(ies)" in out and "0 new in the Log" in out
    assert len(ours(project, "reply")) == 1


def test_check_reads_the_inbox_and_says_so(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_imap(project, imap_server, monkeypatch)
    code, out, _ = run(project, capsys, "check")
    assert code == 0
    assert f"inbox: 127.0.0.1:{imap_server.port} read: OK." in out


@pytest.mark.parametrize(
    "headers",
    [b'From: "\r\nTo: x@y.example\r\n', b"From: sam@stackwise.example\r\nMessage-ID: <<<>>>\r\n"],
)
def test_a_malformed_message_is_skipped_once_and_the_run_goes_on(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    headers: bytes,
) -> None:
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(headers + b"Subject: hello\r\n\r\nA body.\r\n")
    imap_server.append(
        message(
            "Sam Okoro <sam@stackwise.example>",
            SENDER,
            "Re: hi",
            in_reply_to=OUTREACH_ID,
            when=RECENT,
        )
    )
    for _ in range(2):
        code, _out, err = run(project, capsys, "nurture", "--send")
        assert code == 0, err
        assert "internal error" not in err
    assert not smtp_server.recorder.by_recipient(PRIYA)  # the reply after it was still read
    assert len(ours(project, "reply")) == 1


def test_a_message_the_classifier_cannot_read_is_logged_once_and_passed(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from automations.jobs import inbox as mailbox

    real = mailbox.classify

    def fragile(raw: bytes, known: Any, *detected: Any) -> Any:  # no parser of ours reads it
        if b"Subject: garbled" in raw:
            raise IndexError("list index out of range")
        return real(raw, known, *detected)

    monkeypatch.setattr(mailbox, "classify", fragile)
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(b"From: someone@else.example\r\nSubject: garbled\r\n\r\n?\r\n")
    imap_server.append(
        message(
            "Sam <sam@stackwise.example>", SENDER, "Re: hi", in_reply_to=OUTREACH_ID, when=RECENT
        )
    )
    for _ in range(3):
        code, _out, err = run(project, capsys, "nurture", "--send")
        assert code == 0, err
    skipped = [r for r in ours(project, "skipped") if r["action"] == "inbox"]
    assert len(skipped) == 1
    assert "subject 'garbled') could not be read and was skipped" in skipped[0]["detail"]
    assert len(ours(project, "reply")) == 1
    assert not smtp_server.recorder.by_recipient(PRIYA)


# --- an opt-out in a reply's own words blocks the partner (issue 12) ---------------------------

MAYA = "maya@goldberg.example"  # the sample's partner due a check-in today


@pytest.mark.parametrize(
    ("body", "stops"),
    [
        ("unsubscribe", True),
        ("Please remove me from your list", True),
        ("Stop", True),
        ("Bitte keine E-Mails mehr", True),
        ("Happy to talk, and no, don't unsubscribe me from your newsletter", False),
        (
            "Lovely to hear from you, let's meet in January.\n\nOn Mon, 30 Nov 2026, Alex wrote:\n"
            '> Not the right time? Reply "unsubscribe" and I won\'t write again.\n',
            False,
        ),
    ],
)
def test_a_reply_that_asks_to_stop_blocks_the_partner_and_one_that_does_not_is_a_reply(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    body: str,
    stops: bool,
) -> None:
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch)
    subject = "Quick question" if body == "Stop" else "Re: Checking in"  # any subject
    imap_server.append(message(f"Maya <{MAYA}>", SENDER, subject, body=body, when=RECENT))
    for _ in range(2):
        code, _, err = run(project, capsys, "nurture", "--send")
        assert code == 0, err
    assert not smtp_server.recorder.by_recipient(MAYA)  # no check-in either way
    mine = [
        r for r in project.log_rows() if r["partner_email"] == MAYA and r["run_id"] != "history"
    ]
    statuses = [r["status"] for r in mine]
    if stops:
        assert statuses == ["unsubscribe"]
        assert project.health()[MAYA]["action"] == "blocked"
        assert str(project.health()[MAYA]["reason"]).startswith("unsubscribed on")
    else:
        assert statuses == ["reply"]
        assert project.health()[MAYA]["action"] != "blocked"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Out of office: Re: Quick hello", "I'm out until {day:%d %B} with no access to email."),
        ("Abwesenheitsnotiz", "Ich bin bis zum {day.day}.{day.month}. nicht im Büro."),
    ],
    ids=["english", "german"],
)
def test_an_automatic_reply_with_a_return_day_holds_the_follow_up_until_the_day_after(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    subject: str,
    body: str,
) -> None:
    back = dt.date.today() + dt.timedelta(days=9)
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(
        message(
            f"Priya <{PRIYA}>",
            SENDER,
            subject,
            ident="<away1@stackwise.example>",
            in_reply_to=OUTREACH_ID,
            headers={"Auto-Submitted": "auto-replied"},
            body=body.format(day=back),
            when=RECENT,
        )
    )
    for _ in range(2):
        code, out, _ = run(project, capsys, "nurture", "--send")
        assert code == 0
        assert "follow_up-priya" not in out
    [away] = ours(project, "skipped")
    assert (away["action"], away["key"]) == ("away", f"away:{PRIYA}:{back.isoformat()}")
    assert not ours(project, "reply")  # never engagement
    reason = project.health()[PRIYA]["reason"]
    assert reason.startswith(f"away until {back.isoformat()} (an automatic reply said so)")
    assert (back + dt.timedelta(days=1)).isoformat() in reason
    code, out, _ = run(project, capsys, "nurture", "--send", "--today", back.isoformat())
    assert "follow_up-priya" not in out
    after = (back + dt.timedelta(days=1)).isoformat()
    code, out, _ = run(project, capsys, "nurture", "--send", "--today", after)
    assert "follow_up-priya@stackwise.example" in out


def flags(server: ImapServer, folder: str = "INBOX") -> list[bytes]:
    """Every message's FETCH FLAGS answer in `folder` (what marking read would change)."""
    import imaplib

    conn = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    try:
        server.login(conn)
        conn.select(folder, readonly=True)
        _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        return sorted(item for item in data if isinstance(item, bytes))
    finally:
        conn.logout()


def test_health_and_a_dry_run_see_a_waiting_reply_without_recording_it_and_the_send_records_it_once(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from automations.adapters.state import Journal

    use_imap(project, imap_server, monkeypatch)
    run(project, capsys, "health")
    assert project.health()[PRIYA]["action"] == "follow_up"  # due, before she answers
    imap_server.append(
        message(f"Priya <{PRIYA}>", SENDER, "Re: Quick hello", in_reply_to=OUTREACH_ID, when=RECENT)
    )
    before = flags(imap_server)
    code, out, err = run(project, capsys, "health")
    assert code == 0, err
    assert project.health()[PRIYA]["action"] != "follow_up"
    code, out, err = run(project, capsys, "nurture")
    assert code == 0, err
    assert "Dry run:" in out and PRIYA not in out and "follow_up" not in out
    journal = Journal(project / "state" / "journal.sqlite3")
    try:
        assert journal.inbox_cursor("INBOX") == (None, None)  # the next run reads it again
        assert not [e for e in journal.entries() if e.status == "reply"]
    finally:
        journal.close()
    assert not ours(project, "reply")  # nothing in the Log either
    assert flags(imap_server) == before  # nothing marked read
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    assert "1 new in the Log" in out and "follow_up-priya" not in out
    run(project, capsys, "nurture", "--send")
    assert [r["partner_email"] for r in ours(project, "reply")] == [PRIYA]


def test_an_imap_ca_file_that_cannot_be_used_is_named_and_holds_back_follow_ups(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_imap(project, imap_server, monkeypatch, security="starttls", ca_file="certs/ours.pem")
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 1
    assert "[imap] ca_file " in err and "ours.pem cannot be used (No such file" in err
    assert "internal error" not in err and "Traceback" not in err
    assert "follow_up-" not in out and "thank-dana@northwind.example" in out
