"""A reply to the review email (EMAIL.md, "Review before sending", by reply): the strict
grammar, the random token a reply must name, and only the owner's own words deciding; on
a real IMAP server (pymap) like tests/test_review.py."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.core import keys as keyspace
from automations.core.messages import message_id
from automations.core.optout import own_words
from automations.core.review_reply import NEGATIONS, parse_reply
from automations.demo.workbook import SENDER
from tests import test_review as base
from tests.conftest import ImapServer, use_imap, use_smtp
from tests.projects import SheetProject, env_for
from tests.smtp_server import SmtpServer
from tests.test_review import answers, numbered, proposals, reply, review_email_id, run

# The review project and its inbox after a first run proposed (tests/test_review.py).
project = base.project
proposed_with_inbox = base.proposed_with_inbox

TODAY = dt.date(2026, 12, 6)


def read(text: str) -> tuple[str, list[str]]:
    said = parse_reply(text.splitlines(), TODAY, ["Alex Rivera"])
    return said.said(), said.problems


# --- the grammar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("send all", "send all"),
        ("send 1 3\nskip 2", "send 1 3; skip 2"),
        ("Send 1-3", "send 1 2 3"),
        ("send 1 and skip 2", "send 1; skip 2"),
        ("later 4 2027-01-10", "later 4 2027-01-10"),
        ("later 4 14 January", "later 4 2027-01-14"),
        ("later 4 3rd March 2027", "later 4 2027-03-03"),
        ("send 1234", "send 1234"),
        ("Hi,\n\nsend 2, please. Thanks!\n\nBest,\nAlex Rivera", "send 2"),
    ],
)
def test_a_reply_in_the_grammar_is_read_whole(text: str, meant: str) -> None:
    assert read(text) == (meant, [])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Send 1 please. Don't send 2, I'll call her", 'says "don\'t"'),
        ("send all but 3", "says 'but'"),
        ("send all except 2", "says 'except'"),
        ("no, skip them", "says 'no'"),
        ("later 2 2027-02-30", "2027-02-30 is not a day of the calendar"),
        ("later 2 2026-12-01", "2026-12-01 is not a day in the future"),
        ("later 2", "`later` needs a day"),
        ("send 1\nskip 1", "1 has two decisions"),
        ("send 1-100000", "1-100000 is not a range of the list"),
        ("please send all urgent requests to sam@example.com", "the word 'urgent'"),
        ("send", "`send` names no email"),
        ("yes", "it is not a decision"),
    ],
)
def test_a_reply_with_a_negation_or_anything_not_understood_says_what(text: str, why: str) -> None:
    _, problems = read(text)
    assert len(problems) == 1 and why in problems[0]


_GRAMMAR = st.sampled_from(["send", "skip", "all", "1", "2", "3", "1-3", "please", "and", "ok"])


@given(
    before=st.lists(_GRAMMAR, max_size=5),
    after=st.lists(_GRAMMAR, max_size=5),
    negation=st.sampled_from([*sorted(NEGATIONS), "won't", "Don’t", "NOT", "shouldn't"]),
    lines=st.lists(st.sampled_from(["send all", "send 1", "thanks"]), max_size=3),
)
def test_no_sentence_with_a_negation_ever_yields_a_send(
    before: list[str], after: list[str], negation: str, lines: list[str]
) -> None:
    sentence = " ".join([*before, negation, *after])
    said = parse_reply([*lines, sentence], TODAY)
    assert said.problems  # the whole reply applies nothing


def _parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_an_outlook_html_reply_is_read_only_above_its_from_sent_block() -> None:
    msg = EmailMessage()
    msg.set_content(
        '<div class="WordSection1"><p>send 2<o:p></o:p></p><p>Thanks</p></div>'
        '<hr style="display:inline-block;width:98%"><div id="x"><font face="Calibri">'
        "<b>From:</b> Alex Rivera &lt;alex@rivera-consulting.example&gt;<br><b>Sent:</b> "
        "Sunday, December 6, 2026 9:00 AM<br><b>Subject:</b> 9 emails wait</font></div>"
        "<p>- send all</p><p>- skip 1</p>",
        subtype="html",
    )
    assert own_words(_parsed(msg.as_bytes())) == "send 2 Thanks"


@pytest.mark.parametrize(
    "header",
    [
        "On Sun, Dec 6, 2026 at 9:00 AM Alex Rivera <\nalex@rivera-consulting.example> wrote:",
        "Am So., 6. Dez. 2026 um 09:00 Uhr schrieb Alex Rivera <\nalex@rivera.example>:",
        "Le dim. 6 déc. 2026 à 09:00, Alex Rivera <alex@rivera.example> a\nécrit :",
    ],
)
def test_a_quote_header_wrapped_over_two_lines_is_not_read_as_the_owners_words(
    header: str,
) -> None:
    msg = EmailMessage()
    msg.set_content(f"send 1\n\n{header}\n> send all\n")
    assert own_words(_parsed(msg.as_bytes())) == "send 1"


# --- on a real inbox -------------------------------------------------------------------------


def written_to(project: SheetProject) -> set[str]:
    return {p.name.split("-", 1)[1].rsplit("-", 1)[0] for p in (project / "outbox").glob("*")}


def review_emails(project: SheetProject) -> list[EmailMessage]:
    out = []
    for path in sorted((project / "outbox").glob("review-*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Send 1 please. Don't send 2, I'll call her", "don't"),
        ("send all but 3", "but"),
        ("send all except 2", "except"),
        ("no, skip them", "no"),
    ],
)
def test_a_reply_with_a_negation_applies_nothing_and_the_owner_is_told_once(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
    body: str,
    named: str,
) -> None:
    proposed_with_inbox.append(reply(SENDER, body, review_email_id(project)))
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert {p.status for p in proposals(project)} == {"waiting"}
    assert not {p.to_email for p in proposals(project)} & written_to(project)
    detail = [r["detail"] for r in answers(project)]
    assert len(detail) == 1 and detail[0].startswith("not applied: ")
    assert repr(named) in detail[0] and detail[0].endswith("nothing was sent")
    told = [m for m in review_emails(project) if "did not act" in str(m["Subject"])]
    assert len(told) == 1 and told[0]["To"].addresses[0].addr_spec == SENDER
    assert told[0]["Auto-Submitted"] == "auto-generated"
    text = " ".join(text_of(told[0]).split())
    assert f"says {named!r}" in text and "Nothing was sent" in text
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0  # told once
    assert len([m for m in review_emails(project) if "did not act" in str(m["Subject"])]) == 1


def test_a_reply_send_1_3_as_a_range_sends_1_2_and_3(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = numbered(project)
    proposed_with_inbox.append(reply(SENDER, "send 1-3", review_email_id(project)))
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    went = written_to(project)
    assert {listed[n].to_email for n in (1, 2, 3)} <= went
    assert not {listed[n].to_email for n in range(4, 10)} & went
    assert [r["detail"] for r in answers(project)] == ["applied: send 1 2 3"]


def test_the_review_token_is_random_and_never_in_the_log_so_a_reply_naming_what_the_log_shows_changes_nothing(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = review_email_id(project)
    log = project.log_rows()
    assert not any(token in str(v) for row in log for v in row.values())
    (sent,) = review_emails(project)
    assert sent["Message-ID"] == token
    # What a reader of the Log could make: the old id, from the review key and its run id.
    review_row = next(r for r in log if r["action"] == "review" and r["status"] != "reply")
    guessed = message_id((keyspace.review(SENDER, str(review_row["run_id"])),), SENDER)
    assert guessed != token
    proposed_with_inbox.append(reply(SENDER, "send all", guessed))
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert {p.status for p in proposals(project)} == {"waiting"}
    assert [r["detail"][:30] for r in answers(project)] == ["ignored: from " + SENDER[:16]]


def test_the_owners_out_of_office_answering_the_review_email_changes_nothing(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    away = reply(
        SENDER,
        "I am out of the office until Monday.\nPlease send all urgent requests to sam@ops.example",
        review_email_id(project),
    ).replace(b"Subject: Re:", b"Auto-Submitted: auto-replied\nSubject: Automatic reply: Re:")
    proposed_with_inbox.append(away)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert {p.status for p in proposals(project)} == {"waiting"}
    assert [r["detail"] for r in answers(project)] == [
        "ignored: an automatic reply (out of office), not a decision"
    ]
    assert not [m for m in review_emails(project) if "did not act" in str(m["Subject"])]


def html_reply(review: EmailMessage, on_top: str) -> bytes:
    """An HTML-only reply as Gmail writes it: the answer on top, the review email quoted."""
    quoted = "<br>".join(text_of(review).splitlines())
    msg = EmailMessage()
    msg["From"] = f"Alex Rivera <{SENDER}>"
    msg["To"] = SENDER
    msg["Subject"] = f"Re: {review['Subject']}"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain="owner.example")
    msg["In-Reply-To"] = msg["References"] = str(review["Message-ID"])
    msg.set_content(
        f'<div dir="ltr">{on_top}</div><br><div class="gmail_quote"><div dir="ltr" '
        'class="gmail_attr">On Sun, Dec 6, 2026 at 9:00 AM Alex Rivera &lt;<a href="mailto:'
        f'{SENDER}">{SENDER}</a>&gt; wrote:<br></div><blockquote class="gmail_quote">'
        f"{quoted}</blockquote></div>",
        subtype="html",
    )
    return msg.as_bytes()


def test_an_html_only_reply_quoting_the_review_email_with_send_1_on_top_sends_only_1(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = numbered(project)
    (review,) = review_emails(project)
    assert "send all" in text_of(review)  # the quote holds the examples
    proposed_with_inbox.append(html_reply(review, "send 1"))
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    went = written_to(project)
    assert listed[1].to_email in went
    assert not {listed[n].to_email for n in range(2, 10)} & went
    assert [r["detail"] for r in answers(project)] == ["applied: send 1"]


def test_a_send_all_after_the_proposals_expired_is_not_logged_as_applied(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = review_email_id(project)
    later = (dt.date.today() + dt.timedelta(days=15)).isoformat()
    assert run(project, "nurture", "--send", "--today", later, capsys=capsys)[0] == 0
    proposed_with_inbox.append(reply(SENDER, "send all", token))
    assert run(project, "nurture", "--send", "--today", later, capsys=capsys)[0] == 0
    (detail,) = [r["detail"] for r in answers(project)]
    assert detail.startswith("nothing applied; 1 is withdrawn: expired")
    assert not [p for p in Path(project / "outbox").glob("thank-*.eml")]


@pytest.mark.log_write_lost
def test_a_run_killed_while_sending_what_a_reply_approved_sends_nothing_twice(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Issue 23, acceptance 6: the kill test on the reply path. The run that reads the reply
    # is killed mid-send; the rerun reads the same reply again (the cursor never moved).
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    imap_server.append(reply(SENDER, "send all", review_email_id(project)))
    smtp_server.recorder.after_data = ["", "", "hang"]  # the third approved one never gets 250
    before = smtp_server.recorder.transactions
    process = subprocess.Popen(
        [sys.executable, "-m", "automations", "nurture", "--send"],
        cwd=project.path,
        env={
            **env_for(project),
            **{k: v for k, v in os.environ.items() if k.startswith("PARTNERS")},
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while smtp_server.recorder.transactions < before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp_server.recorder.transactions == before + 3  # 2 sent, 1 in flight
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    for _ in range(2):
        run(project, "nurture", "--send", capsys=capsys)
    ids = [str(r.message["Message-ID"]) for r in smtp_server.recorder.received]
    assert len(ids) == len(set(ids))
    partners = [r.rcpt_tos[0] for r in smtp_server.recorder.received if r.rcpt_tos[0] != SENDER]
    # Every approved one reached the server once (the one in flight too: it stays uncertain).
    assert len(partners) == len(set(partners)) == base.PARTNER_EMAILS
