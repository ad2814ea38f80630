"""Review before sending (EMAIL.md, "Review before sending"): proposals in the Review tab,
in the terminal and answered by email, on a real SMTP server, pymap and the Sheets emulator."""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pexpect
import pytest
from openpyxl import load_workbook

from automations.adapters.state import Entry, Journal
from automations.cli import main
from automations.config import load_settings
from automations.core.messages import message_id
from automations.core.review import Proposal
from automations.demo.workbook import SENDER
from automations.jobs.review.command import shown
from automations.jobs.wiring import open_backend
from automations.testing.cells import Cell
from automations.testing.sheets_emulator import SheetsEmulator
from tests.conftest import ImapServer, set_keys, use_imap, use_smtp
from tests.imap_messages import message
from tests.projects import SHEET_KEY, SheetProject, email_rows, env_for
from tests.smtp_server import SmtpServer

# What the sample has due today, under review for the six partner kinds: all but the escalation.
PARTNER_EMAILS = 9
PRIYA = "priya@stackwise.example"  # her follow-up is due today
DANA = "dana@northwind.example"  # her thank-you is due today
OWNER = "sam@rivera-consulting.example"
CRM = "log@crm.example"


def run(project: SheetProject, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out + err


def proposals(project: SheetProject) -> list[Proposal]:
    journal = Journal(project / "state" / "journal.sqlite3")
    try:
        return journal.proposals()
    finally:
        journal.close()


def proposal_to(project: SheetProject, address: str) -> Proposal:
    return next(p for p in proposals(project) if p.to_email == address)


def logged(project: SheetProject, status: str) -> list[dict[str, Any]]:
    return [r for r in email_rows(project.log_rows()) if r["status"] == status]


def without_date(raw: bytes) -> bytes:
    return re.sub(rb"(?m)^Date: [^\r\n]*\r?\n", b"", raw.replace(b"\r\n", b"\n"))


def to_partners(server: SmtpServer) -> list[str]:
    return [r.rcpt_tos[0] for r in server.recorder.received if r.rcpt_tos[0] != SENDER]


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    """The sample project with the review `partners init` writes (the six partner kinds)."""
    return SheetProject(tmp_path, review=True)


@pytest.fixture
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SheetProject]:
    """The same, its sheet on the Sheets emulator."""
    emulator = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", emulator.host)
    yield SheetProject(tmp_path, emulator, review=True)
    emulator.stop()


def test_with_review_on_escalations_go_partner_emails_are_proposed_and_a_rerun_proposes_nothing(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    got = smtp_server.recorder.received
    subjects = sorted(str(r.message["Subject"]) for r in got)
    assert [r.rcpt_tos for r in got] == [[SENDER], [SENDER]]  # nothing reached a partner
    assert subjects[0].startswith("9 emails wait for your approval")
    assert subjects[1].startswith("Partner follow-up needed")
    review = next(r.message for r in got if "approval" in str(r.message["Subject"]))
    assert review["Auto-Submitted"] == "auto-generated"
    text = review.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. To " in text and "9. To " in text and "send 1 9" in text
    assert len(logged(project, "proposed")) == PARTNER_EMAILS
    assert "Proposed 9 email(s) for your approval" in out
    health = project.health()
    assert "waits for your approval since" in health[DANA]["reason"]
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    assert len(smtp_server.recorder.received) == 2  # no second review email, nothing sent
    assert len(logged(project, "proposed")) == PARTNER_EMAILS
    assert "9 earlier proposal(s) still wait" in out


def test_the_review_tab_on_google_sends_exactly_what_was_approved_and_never_writes_a_decision(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    assert google.emulator is not None
    tab = google.emulator.values(SHEET_KEY, "Review")
    header = [str(h) for h in tab[0]]
    assert header == [
        "proposed_on",
        "kind",
        "to",
        "subject",
        "preview",
        "why",
        "keys",
        "proposal",
        "status",
        "decision",
    ]
    assert len(tab) == 1 + PARTNER_EMAILS
    assert {r[header.index("status")] for r in tab[1:]} == {"waiting"}
    by_to = {str(r[2]): r for r in tab[1:]}
    # The user: two sends, one skip, sorts the tab by `to` descending, deletes one row.
    approve = ["zoe@nunez.example", DANA]
    decisions = {"zoe@nunez.example": "send", DANA: "Send", "lena@fischer.example": "skip"}
    deleted = "rafael@costa.example"
    rows = sorted((r for to, r in by_to.items() if to != deleted), key=lambda r: r[2])[::-1]
    sheet = google.emulator.spreadsheets[SHEET_KEY].tab("Review")
    assert sheet is not None
    sheet.cells.clear()
    for c, value in enumerate(header):
        sheet.cells[(0, c)] = Cell.native(value)
    for n, row in enumerate(rows, start=1):
        cells = [*row, ""][: len(header)]
        cells[header.index("decision")] = decisions.get(str(row[2]), "")
        for c, value in enumerate(cells):
            if value != "":
                sheet.cells[(n, c)] = Cell.native(value)
    before = google.emulator.values(SHEET_KEY, "Review")
    proposed = {p.to_email: p.data for p in proposals(google)}

    code, out = run(google, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    sent = {r.rcpt_tos[0]: r.raw for r in smtp_server.recorder.received}
    assert sorted(to_partners(smtp_server)) == sorted(approve)
    for to in approve:
        assert without_date(sent[to]) == without_date(proposed[to])
        assert b"\r\nDate: " in sent[to]
    skipped = logged(google, "skipped")
    assert [r["partner_email"] for r in skipped] == ["lena@fischer.example"]
    after = google.emulator.values(SHEET_KEY, "Review")
    at = header.index("decision")
    assert [r[at] if len(r) > at else "" for r in after[1:]] == [
        r[at] if len(r) > at else "" for r in before[1:]
    ]
    status = {str(r[2]): str(r[header.index("status")]) for r in after[1:]}
    assert status[DANA] == "sent" and status["lena@fischer.example"] == "skipped"
    assert deleted not in status  # a deleted row stays deleted; its proposal still waits
    assert proposal_to(google, deleted).status == "waiting"
    # A third run: nothing twice.
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    assert sorted(to_partners(smtp_server)) == sorted(approve)


def test_partners_review_by_key_sends_one_at_once_and_records_the_skip(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    follow_up = proposal_to(project, PRIYA)
    code, out = run(
        project,
        "review",
        "--send",
        thank.keys[0],
        "--skip",
        follow_up.keys[0],
        capsys=capsys,
    )
    assert code == 0, out
    assert "Recorded: 1 to send, 1 skipped." in out
    written = sorted(p.name.split("-")[0] for p in (project / "outbox").glob("*.eml"))
    assert written == ["escalation", "review", "thank"]
    eml = next((project / "outbox").glob("thank-*.eml")).read_bytes()
    assert without_date(eml) == without_date(thank.data)
    assert [r["key"] for r in logged(project, "skipped")] == [follow_up.keys[0]]
    assert [r["key"] for r in logged(project, "written") if r["action"] == "thank"] == [
        thank.keys[0]
    ]
    # Neither is proposed again; the other seven still wait.
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(list((project / "outbox").glob("*.eml"))) == 3
    assert len([p for p in proposals(project) if p.status == "waiting"]) == PARTNER_EMAILS - 2
    code, out = run(project, "review", "--send", "thank:nobody@x.example:2026-01-01", capsys=capsys)
    assert code == 2 and "no proposal waiting for approval has the key" in out


def test_partners_review_in_a_terminal_shows_each_email_and_takes_send_skip_later_quit(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    waiting = sorted(proposals(project), key=lambda p: (p.proposed_at, p.number))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "automations", "review", "--config", str(project / "config" / "partners.toml")],
        cwd=str(project.path),
        env=env_for(project),
        encoding="utf-8",
        timeout=60,
    )
    try:
        for answer in ("send", "skip", "later 2030-01-10", "next"):
            child.expect(r"later YYYY-MM-DD, next or quit\? ")
            shown = child.before
            assert "Subject: " in shown and "To: " in shown and "Hi " in shown
            child.sendline(answer)
        child.expect(r"next or quit\? ")
        child.sendline("quit")
        child.expect("Recorded: 1 to send, 1 skipped, 1 for later.")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    state = {p.ident: p.status for p in proposals(project)}
    assert [state[p.ident] for p in waiting[:5]] == [
        "sent",
        "skipped",
        "later",
        "waiting",
        "waiting",
    ]
    assert len(list((project / "outbox").glob(f"{waiting[0].kind}-*.eml"))) == 1


def test_the_digest_and_check_say_what_waits_for_approval(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    code, out = run(project, "digest", capsys=capsys)
    assert code == 0, out
    assert "Waiting for your approval (9)" in out
    assert "thank-you to Dana Whitfield, waiting since today" in out
    code, out = run(project, "check", capsys=capsys)
    assert "waited for your approval" not in out  # not yet a few days
    in_four_days = (dt.date.today() + dt.timedelta(days=4)).isoformat()
    code, out = run(project, "check", "--today", in_four_days, capsys=capsys)
    assert "9 email(s) have waited for your approval for more than 3 days" in out
    assert f"thank to {DANA}, “Thank you for introducing me to Harbor Bakery”" in out


def test_preview_says_an_email_under_review_waits_for_approval(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(project, "preview", "thank", "--partner", DANA, capsys=capsys)
    assert code == 0, out
    first = out.splitlines()[0]
    assert "waits for your approval" in first and "proposes it" in first
    assert "goes on the next" not in first
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    code, out = run(project, "preview", "thank", "--partner", DANA, capsys=capsys)
    assert code == 0, out
    first = out.splitlines()[0]
    assert "Waits for your approval since today" in first and "partners review" in first


def test_health_after_a_proposal_still_says_the_email_waits_for_approval(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    code, out = run(project, "health", capsys=capsys)
    assert code == 0, out
    assert "waits for your approval since" in project.health()[DANA]["reason"]


def test_a_dry_run_shows_proposals_already_waiting_as_waiting_not_as_due(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(project, "nurture", capsys=capsys)
    assert code == 0, out
    assert "9 of these wait for your approval" in out  # before any proposal: proposed by --send
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    code, out = run(project, "nurture", capsys=capsys)
    assert code == 0, out
    assert "Dry run: 0 email(s) would be written" in out
    assert DANA not in out.split("Dry run:")[0]  # not listed as going
    assert "9 email(s) already wait for your approval" in out
    assert "  thank-you to Dana Whitfield, waiting since today" in out
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0 and "Nothing is due" in out  # as the dry run said


# --- by reply --------------------------------------------------------------------------------


def review_email_id(project: SheetProject) -> str:
    ids = {p.review_id for p in proposals(project) if p.review_id}
    assert len(ids) == 1
    return ids.pop()


def numbered(project: SheetProject) -> dict[int, Proposal]:
    return {p.number: p for p in proposals(project) if p.number}


def answers(project: SheetProject) -> list[dict[str, Any]]:
    """The Log rows that say what a reply to a review email did."""
    return [r for r in project.log_rows() if r["action"] == "review" and r["status"] == "reply"]


def reply(sender: str, body: str, in_reply_to: str = "") -> bytes:
    return message(
        sender,
        SENDER,
        "Re: 9 emails wait for your approval",
        in_reply_to=in_reply_to,
        ident=make_msgid(domain="owner.example"),
        body=body + "\n\nOn Friday, the toolkit wrote:\n> send all\n",
        when=dt.datetime.now(dt.UTC),
    )


@pytest.fixture
def proposed_with_inbox(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> ImapServer:
    """The project reading a real inbox, after a first run proposed the partner emails."""
    use_imap(project, imap_server, monkeypatch)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    return imap_server


def test_a_reply_from_the_owner_sends_1_and_3_and_skips_2(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = numbered(project)
    proposed_with_inbox.append(reply(SENDER, "send 1 3\nskip 2", review_email_id(project)))
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    written = {p.name.split("-", 1)[1].rsplit("-", 1)[0] for p in (project / "outbox").glob("*")}
    assert listed[1].to_email in written and listed[3].to_email in written
    assert listed[2].to_email not in written
    assert [r["key"] for r in logged(project, "skipped")] == list(listed[2].keys)
    assert [r["detail"] for r in answers(project)] == ["applied: send 1 3; skip 2"]
    # The reply is read once: a third run changes nothing.
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(answers(project)) == 1


@pytest.mark.parametrize("stranger", [True, False], ids=["another address", "not a reply"])
def test_a_reply_from_another_address_or_not_in_reply_changes_nothing_and_is_logged_ignored(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
    stranger: bool,
) -> None:
    if stranger:
        raw = reply("mallory@elsewhere.example", "send 1 3\nskip 2", review_email_id(project))
    else:
        raw = reply(SENDER, "send 1 3\nskip 2")
    proposed_with_inbox.append(raw)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(list((project / "outbox").glob("*.eml"))) == 2  # escalation and review only
    assert {p.status for p in proposals(project)} == {"waiting"}
    answered = [r["detail"] for r in answers(project)]
    assert len(answered) == 1 and answered[0].startswith("ignored: from ")
    assert ("not from alex@" if stranger else "not a reply to a review email") in answered[0]


# --- withdrawn, expired, killed --------------------------------------------------------------


def test_a_proposal_approved_after_the_partner_replied_is_withdrawn_and_not_sent(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    follow_up = proposal_to(project, PRIYA)
    proposed_with_inbox.append(
        message(
            "Priya Raman <priya@stackwise.example>",
            SENDER,
            "Re: Quick hello from Alex Rivera",
            ident=make_msgid(domain="stackwise.example"),
            when=dt.datetime.now(dt.UTC),
        )
    )
    code, out = run(project, "review", "--send", follow_up.keys[0], capsys=capsys)
    assert code == 0, out
    assert not list((project / "outbox").glob("follow_up-*.eml"))
    withdrawn = logged(project, "withdrawn")
    assert [r["key"] for r in withdrawn] == [follow_up.keys[0]]
    assert withdrawn[0]["detail"].startswith("the partner replied")
    assert "withdrawn and will not be sent: the partner replied" in out
    assert proposal_to(project, PRIYA).status == "withdrawn"


def test_an_approved_proposal_waits_while_the_partners_row_has_a_problem_and_goes_once_fixed(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    maya = "maya@goldberg.example"
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    nurture = proposal_to(project, maya)
    book = load_workbook(project / "data" / "partners.xlsx")
    first_contact = next(r[6].value for r in book["Partners"].iter_rows() if r[1].value == maya)
    project.set_partner(maya, "first_contact", "31/02/2026")
    code, out = run(project, "review", "--send", nurture.keys[0], capsys=capsys)
    assert code == 1, out  # the row problem
    assert not logged(project, "withdrawn")
    assert proposal_to(project, maya).status == "approved"
    assert not list((project / "outbox").glob("nurture-*.eml"))
    project.set_partner(maya, "first_contact", first_contact)
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    written = [r["key"] for r in logged(project, "written") if r["action"] == "nurture"]
    assert written == [nurture.keys[0]]  # the approved one; the others still wait
    assert proposal_to(project, maya).status == "sent"


def test_proposals_approved_after_their_partners_were_set_do_not_email_are_withdrawn(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    # Partners who never answered among them: a blank last reply is no reason to stop.
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    for proposal in proposals(project):
        project.set_partner(proposal.to_email, "do_not_email", True)
    code, out = run(project, "review", "--all", capsys=capsys)
    assert code == 0, out
    details = {r["detail"] for r in logged(project, "withdrawn")}
    assert details == {"blocked: do_not_email is set: no email to this partner"}
    assert len(logged(project, "withdrawn")) == PARTNER_EMAILS


def test_a_proposal_nobody_decided_on_for_15_days_is_withdrawn_as_expired(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    later = (dt.date.today() + dt.timedelta(days=15)).isoformat()
    code, out = run(project, "nurture", "--send", "--today", later, capsys=capsys)
    assert code == 0, out
    expired = [r for r in logged(project, "withdrawn") if r["detail"].startswith("expired")]
    assert len(expired) == PARTNER_EMAILS
    assert expired[0]["detail"] == "expired: nobody decided within 14 days"
    # An expired key is handled: never proposed again (a new key may be, later).
    keys = [r["key"] for r in logged(project, "proposed")]
    assert len(keys) == len(set(keys))
    assert not {r["key"] for r in expired} & set(keys[PARTNER_EMAILS:])
    assert not [p for p in (project / "outbox").glob("*.eml") if p.name.startswith("thank")]


@pytest.mark.log_write_lost
def test_a_run_killed_while_sending_approved_proposals_sends_nothing_twice(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert (
        run(
            project, "review", "--later", proposals(project)[0].keys[0], "2030-01-01", capsys=capsys
        )[0]
        == 0
    )
    db = sqlite3.connect(project / "state" / "journal.sqlite3")
    with db:  # approve every waiting one, as the Review tab or a reply would
        db.execute("UPDATE proposals SET status = 'approved' WHERE status = 'waiting'")
    db.close()
    smtp_server.recorder.after_data = ["", "", "hang"]  # the third approved one never gets 250
    process = subprocess.Popen(
        [sys.executable, "-m", "automations", "nurture", "--send"],
        cwd=project.path,
        env=env_for(project),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while smtp_server.recorder.transactions < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp_server.recorder.transactions == 5  # 2 before, then 2 sent and 1 in flight
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1, out  # the one in flight is uncertain
    ids = [str(r.message["Message-ID"]) for r in smtp_server.recorder.received]
    assert len(ids) == len(set(ids))
    assert len(to_partners(smtp_server)) == PARTNER_EMAILS - 1  # all approved; one is later
    run(project, "nurture", "--send", capsys=capsys)
    assert len(to_partners(smtp_server)) == PARTNER_EMAILS - 1


def test_an_approved_proposal_goes_to_exactly_the_copies_it_was_proposed_with(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "partners.toml"
    use_smtp(project, smtp_server)
    set_keys(config, "mail", bcc=[CRM])
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    assert "Bcc: log@crm.example" in shown(thank)  # the review shows every address it goes to
    # The config changes after the user saw the proposal: no copy is added or dropped unseen.
    set_keys(config, "mail", cc_owner=True, bcc=[])
    project.set_partner(DANA, "owner", OWNER)
    code, out = run(project, "review", "--send", thank.keys[0], capsys=capsys)
    assert code == 0, out
    [sent] = [r for r in smtp_server.recorder.received if r.rcpt_tos[0] == DANA]
    assert sent.rcpt_tos == [DANA, CRM]
    assert without_date(sent.raw) == without_date(thank.data)


def test_a_moved_project_folder_keeps_its_proposals_and_reports_a_key_left_pending_as_uncertain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path / "before", review=True)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    made = proposals(project)
    assert len(made) == PARTNER_EMAILS
    # A run killed mid-send before the move left one key `pending`.
    settings = load_settings(project / "config" / "partners.toml")
    journal = Journal(project / "state" / "journal.sqlite3", open_backend(settings).identity)
    ghost = f"survey:{DANA}:2026Q1"
    stamp = "2026-03-02T09:00:00+00:00"
    journal.record(
        [Entry(stamp, "r0", "survey", DANA, ghost, "survey", "A question", "", "pending", "")]
    )
    journal.close()
    shutil.move(project.path, tmp_path / "after")
    project.path = tmp_path / "after"
    code, out = run(project, "review", capsys=capsys)
    assert code == 0, out
    assert all(p.keys[0] in out for p in made)  # the same proposals, from the new place
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 1  # 1: the uncertain key
    assert len(proposals(project)) == PARTNER_EMAILS  # none proposed again
    code, out = run(project, "check", capsys=capsys)
    assert code == 1 and f"uncertain: {ghost}" in out


def test_proposals_an_earlier_version_kept_under_the_workbooks_absolute_path_stay_open(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    made = proposals(project)
    db = sqlite3.connect(project / "state" / "journal.sqlite3")
    with db:  # as an earlier version named the workbook
        absolute = f"xlsx:{(project / 'data' / 'partners.xlsx').resolve()}"
        for table in ("sends", "proposals"):
            db.execute(f"UPDATE {table} SET sheet = ?", (absolute,))
    db.close()
    code, out = run(project, "review", capsys=capsys)
    assert code == 0 and all(p.keys[0] in out for p in made)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(proposals(project)) == PARTNER_EMAILS  # none proposed again


def test_review_off_sends_as_before(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    set_keys(project / "config" / "partners.toml", "mail", review="none")
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(to_partners(smtp_server)) == PARTNER_EMAILS
    assert not proposals(project)


def test_a_long_preview_is_cut_at_a_word_with_an_ellipsis() -> None:
    from automations.jobs.review.proposing import shortened

    text = "It's been a while since we last spoke " * 10
    cut = shortened(text.strip(), 60)
    assert cut == "It's been a while since we last spoke It's been a while …"
    assert shortened("Short enough.", 60) == "Short enough."


def _review_in_a_terminal(project: SheetProject) -> Any:
    return pexpect.spawn(
        sys.executable,
        ["-m", "automations", "review", "--config", str(project / "config" / "partners.toml")],
        cwd=str(project.path),
        env=env_for(project),
        encoding="utf-8",
        timeout=60,
    )


def interrupt_while_it_waits(child: pexpect.spawn) -> None:
    """Ctrl-C at the prompt. A Ctrl-C that lands after the prompt is printed but before
    input() blocks in its read is only noticed after the next line (CPython sets a flag, and
    no read is interrupted): a person presses it again, and so does this, after three seconds."""
    for _ in range(5):
        child.sendintr()
        if child.expect(["Interrupted: your decisions are kept", pexpect.TIMEOUT], timeout=3) == 0:
            return
    raise AssertionError(f"five Ctrl-C and the review went on: {child.before!r}")


def test_ctrl_c_in_a_terminal_review_keeps_the_decisions_made_and_s_is_not_send(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 23: Ctrl-C lost every decision made; `s` meant send; a past `later` was taken.
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    waiting = sorted(proposals(project), key=lambda p: (p.proposed_at, p.number))
    child = _review_in_a_terminal(project)
    try:
        child.expect(r"next or quit\? ")
        child.sendline("s")
        child.expect("Answer one of")
        child.sendline("send")
        child.expect(r"next or quit\? ")
        child.sendline("later 2020-01-10")
        child.expect("that day is not after today")
        child.sendline("skip")
        child.expect(r"\[3/\d+\]")
        child.expect(r"next or quit\? ")
        interrupt_while_it_waits(child)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    state = {p.ident: p.status for p in proposals(project)}
    assert [state[p.ident] for p in waiting[:3]] == ["approved", "skipped", "waiting"]
    before = sorted((project / "outbox").glob("*.eml"))  # the escalation and the review email
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert not [p for p in before if not p.name.startswith(("escalation", "review"))]
    assert {p.ident: p.status for p in proposals(project)}[waiting[0].ident] == "sent"


def test_decisions_made_while_a_scheduled_run_holds_the_lock_are_kept_and_apply_after(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    import fcntl

    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    lock = (project / "state" / "run.lock").open("a+")
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # a cron run, working
        code, out = run(project, "review", "--send", thank.keys[0], capsys=capsys)
        assert code == 0, out
        assert "your decisions are kept and apply when it ends" in out
    finally:
        lock.close()
    assert proposal_to(project, DANA).status == "waiting"  # not applied yet, but kept
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert proposal_to(project, DANA).status == "sent"
    assert [r["key"] for r in logged(project, "written") if r["action"] == "thank"] == [*thank.keys]


def test_a_later_day_that_has_passed_is_refused_with_the_reason(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    key = proposal_to(project, DANA).keys[0]
    code, out = run(project, "review", "--later", key, "2020-01-10", capsys=capsys)
    assert code == 2
    assert f"partners review --later {key} '2020-01-10': that day is not after today" in out
    assert proposal_to(project, DANA).status == "waiting"


def test_review_statuses_land_on_their_own_rows_when_the_user_sorts_the_tab_during_the_run(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    emulator = google.emulator
    assert emulator is not None
    tab = emulator.spreadsheets[SHEET_KEY].tab("Review")
    assert tab is not None
    header = [str(h) for h in emulator.values(SHEET_KEY, "Review")[0]]
    to_at, status_at, decision_at = (header.index(c) for c in ("to", "status", "decision"))
    decisions = {"zoe@nunez.example": "send", DANA: "send", "lena@fischer.example": "skip"}
    for (r, c), cell in list(tab.cells.items()):
        if c == to_at and str(cell.value) in decisions:
            tab.cells[(r, decision_at)] = Cell.native(decisions[str(cell.value)])

    before = len(smtp_server.recorder.received)

    def user_sorts_while_sending(method: str, path: str) -> None:
        if len(smtp_server.recorder.received) > before:  # sending: the user reverses the rows
            emulator.before = None
            last = tab.last_row()
            with emulator.lock:
                tab.cells = {
                    ((last - r if r else 0), c): cell for (r, c), cell in tab.cells.items()
                }

    emulator.before = user_sorts_while_sending
    code, out = run(google, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    assert emulator.before is None  # the tab was sorted mid-run
    after = emulator.values(SHEET_KEY, "Review")
    status = {str(r[to_at]): str(r[status_at]) for r in after[1:]}
    assert status.pop(DANA) == status.pop("zoe@nunez.example") == "sent"
    assert status.pop("lena@fischer.example") == "skipped"
    assert set(status.values()) == {"waiting"}


# --- one gate for every send, across every sheet the project used ----------------------------


def type_decisions(project: SheetProject, decide: Any) -> None:
    """The user types a decision in the Google Review tab: `decide(row)` gives the cell."""
    assert project.emulator is not None
    tab = project.emulator.spreadsheets[SHEET_KEY].tab("Review")
    assert tab is not None
    rows = project.emulator.values(SHEET_KEY, "Review")
    header = [str(h) for h in rows[0]]
    for n, row in enumerate(rows[1:], start=1):
        value = decide(dict(zip(header, [*row, *[""] * len(header)], strict=False)))
        if value:
            tab.cells[(n, header.index("decision"))] = Cell.native(value)


def add_review_row(project: SheetProject, values: dict[str, str]) -> None:
    """A row the user copied in (or left from an earlier proposal), under the tab's header."""
    assert project.emulator is not None
    tab = project.emulator.spreadsheets[SHEET_KEY].tab("Review")
    assert tab is not None
    rows = project.emulator.values(SHEET_KEY, "Review")
    header = [str(h) for h in rows[0]]
    for c, h in enumerate(header):
        if values.get(h):
            tab.cells[(len(rows), c)] = Cell.native(values[h])


@pytest.mark.parametrize("carried", [False, True], ids=["moved", "moved-and-carried-over"])
def test_approvals_after_moving_to_google_never_send_a_message_twice_nor_an_old_decision(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: SmtpServer,
    carried: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = SheetProject(tmp_path, review=True)
    use_smtp(project, smtp_server)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    code, out = run(project, "review", "--send", thank.keys[0], capsys=capsys)
    assert code == 0, out
    assert to_partners(smtp_server) == [DANA]
    # The project moves to Google Sheets; the journal stays in state/.
    emulator = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", emulator.host)
    try:
        move_to_google(project, emulator)
        if carried:
            assert run(project, "carry-over", capsys=capsys)[0] == 0
        code, out = run(project, "nurture", "--send", capsys=capsys)
        assert code in (0, 1), out
        review = emulator.values(SHEET_KEY, "Review")
        assert review, out
        header = [str(h) for h in review[0]]
        listed = [dict(zip(header, r, strict=False)) for r in review[1:]]
        assert thank.keys_cell not in [r["keys"] for r in listed]  # it went: not asked again
        # The user approves what is proposed, and types `send` in a row left from the
        # thank-you's earlier proposal.
        type_decisions(project, lambda row: "send" if row["to"] != PRIYA else "")
        add_review_row(
            project,
            {"proposed_on": thank.proposed_at[:10], "kind": "thank", "to": DANA}
            | {"keys": thank.keys_cell, "status": "sent", "decision": "send"},
        )
        code, out = run(project, "nurture", "--send", capsys=capsys)
        assert code in (0, 1), out
        run(project, "nurture", "--send", capsys=capsys)
    finally:
        emulator.stop()
        if carried:  # carried rows come without the workbook's `run` rows: check that Log
            project.emulator = None
    ids = [str(r.message["Message-ID"]) for r in smtp_server.recorder.received]
    assert len(ids) == len(set(ids))
    partners = to_partners(smtp_server)
    assert partners.count(DANA) == 1
    assert PRIYA not in partners  # not approved
    assert len(partners) == PARTNER_EMAILS - 1


def test_a_decision_typed_for_an_earlier_proposal_of_the_same_keys_is_not_applied_to_a_new_one(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    assert google.emulator is not None
    # The user types `send` for Dana, then moves to a copy of the sheet (File > Make a copy)
    # before any run applied it: the copy proposes Dana's thank-you anew.
    type_decisions(google, lambda row: "send" if row["to"] == DANA else "")
    copy_key = "1CopyOfThePartnerSheet"
    original = google.emulator.spreadsheets[SHEET_KEY]
    made = google.emulator.create(copy_key, "copy", {})
    made.tabs = copy.deepcopy(original.tabs)
    config = google / "config" / "partners.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(SHEET_KEY, copy_key))
    for _ in range(2):  # the new proposals, then a run that reads the tab's decisions
        code, out = run(google, "nurture", "--send", capsys=capsys)
        assert code == 0, out
    assert DANA not in to_partners(smtp_server)  # the old cell was for the old proposal
    rows = google.emulator.values(copy_key, "Review")
    header = [str(h) for h in rows[0]]
    assert header[header.index("keys") + 1] == "proposal"  # the toolkit's id of each row
    status = [r[header.index("status")] for r in rows[1:] if r[header.index("to")] == DANA]
    assert status == ["waiting", "waiting"]  # the old row, and the new proposal's own row


def test_a_review_tab_written_before_proposal_ids_still_takes_its_decisions_and_gets_the_ids(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    assert google.emulator is not None
    rows = google.emulator.values(SHEET_KEY, "Review")
    at = rows[0].index("proposal")
    # The tab as an earlier version wrote it: no `proposal` column.
    tab = google.emulator.spreadsheets[SHEET_KEY].tab("Review")
    assert tab is not None
    tab.cells.clear()
    tab.columns = len(rows[0]) - 1  # its grid as that version made it: nine columns
    for r, row in enumerate(rows):
        for c, value in enumerate([*row[:at], *row[at + 1 :]]):
            if value not in ("", None):
                tab.cells[(r, c)] = Cell.native(value)
    type_decisions(google, lambda row: "send" if row["to"] == DANA else "")
    code, out = run(google, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    assert to_partners(smtp_server) == [DANA]
    after = google.emulator.values(SHEET_KEY, "Review")
    header = [str(h) for h in after[0]]
    assert header[-1] == "proposal"  # added where the tab ends, the user's columns untouched
    ids = {str(r[2]): r[header.index("proposal")] for r in after[1:]}
    assert ids[DANA] == proposal_to(google, DANA).pid
    assert google.health()[DANA]  # Health written in the same run


# --- an approval sends and records exactly its proposal ---------------------------------------


def add_referral(project: SheetProject, day: dt.date, email: str, client: str) -> None:
    """The user types a referral in (Referrals: date, direction, partner email, client, …)."""
    path = project / "data" / "partners.xlsx"
    book = load_workbook(path)
    book["Referrals"].append(
        [dt.datetime.combine(day, dt.time()), "received", email, client, "new"]
    )
    book.save(path)


@pytest.mark.parametrize("later", [True, False], ids=["dated-later", "dated-earlier"])
def test_an_approved_thank_you_goes_with_only_its_keys_and_a_referral_typed_in_since_gets_its_own(
    project: SheetProject,
    smtp_server: SmtpServer,
    later: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_smtp(project, smtp_server)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    referred = dt.date.fromisoformat(thank.keys[0].rsplit(":", 1)[1])
    second = dt.date.today() - dt.timedelta(days=1) if later else referred - dt.timedelta(days=3)
    add_referral(project, second, DANA, "Quayside Books")
    code, out = run(project, "review", "--send", thank.keys[0], capsys=capsys)
    assert code == 0, out
    [sent] = [r for r in smtp_server.recorder.received if r.rcpt_tos[0] == DANA]
    assert without_date(sent.raw) == without_date(thank.data)  # the email the user approved
    thanked = [r["key"] for r in logged(project, "sent") if r["action"] == "thank"]
    assert thanked == list(thank.keys)  # not the referral typed in since
    # The next run proposes the second referral's own thank-you.
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    again = [p for p in proposals(project) if p.to_email == DANA and p.status == "waiting"]
    assert [p.keys for p in again] == [(f"thank:{DANA}:{second.isoformat()}",)]
    assert b"Quayside Books" in again[0].data
    code, out = run(project, "review", "--send", again[0].keys[0], capsys=capsys)
    assert code == 0, out
    thanked = [r["key"] for r in logged(project, "sent") if r["action"] == "thank"]
    assert thanked == [*thank.keys, *again[0].keys]


# --- withdrawn only for lasting reasons, each said with the partner's name --------------------


def delete_referral(project: SheetProject, email: str, day: dt.date) -> None:
    """The user deletes a referral row."""
    path = project / "data" / "partners.xlsx"
    book = load_workbook(path)
    sheet = book["Referrals"]
    row = next(
        r[0].row
        for r in sheet.iter_rows(min_row=2)
        if r[2].value == email and r[0].value == dt.datetime.combine(day, dt.time())
    )
    sheet.delete_rows(row)
    book.save(path)


def test_a_thank_you_whose_referral_row_was_deleted_is_withdrawn_saying_so_and_naming_the_partner(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    delete_referral(project, DANA, dt.date.fromisoformat(thank.keys[0].rsplit(":", 1)[1]))
    code, out = run(project, "review", "--send", thank.keys[0], capsys=capsys)
    assert code == 0, out
    [withdrawn] = logged(project, "withdrawn")
    assert withdrawn["key"] == thank.keys[0]
    assert withdrawn["detail"] == "the referral on 16 November is gone from Referrals"
    assert (
        "The thank-you to Dana Whitfield was withdrawn and will not be sent: the referral on "
        "16 November is gone from Referrals." in out
    )
    assert not list((project / "outbox").glob("thank-*.eml"))


def test_a_proposal_whose_partner_was_snoozed_is_withdrawn_as_snoozed(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    follow_up = proposal_to(project, PRIYA)
    until = dt.date.today() + dt.timedelta(days=40)
    book = load_workbook(project / "data" / "partners.xlsx")
    partners = book["Partners"]
    partners.cell(1, partners.max_column + 1, "snooze_until")
    book.save(project / "data" / "partners.xlsx")
    project.set_partner(PRIYA, "snooze_until", until.isoformat())
    code, out = run(project, "review", "--send", follow_up.keys[0], capsys=capsys)
    assert code == 0, out
    [withdrawn] = logged(project, "withdrawn")
    assert withdrawn["detail"] == f"snoozed until {until.isoformat()}"
    assert "The follow-up to Priya Raman was withdrawn and will not be sent: snoozed" in out


def test_an_approved_follow_up_held_by_an_out_of_office_waits_and_goes_after_the_return_day(
    project: SheetProject,
    proposed_with_inbox: ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    follow_up = proposal_to(project, PRIYA)
    back = dt.date.today() + dt.timedelta(days=9)
    outreach = message_id((f"campaign:platforms-2026:{PRIYA}",), SENDER)
    proposed_with_inbox.append(
        message(
            f"Priya <{PRIYA}>",
            SENDER,
            "Out of office: Re: Quick hello",
            ident="<away1@stackwise.example>",
            in_reply_to=outreach,
            headers={"Auto-Submitted": "auto-replied"},
            body=f"I'm out until {back:%d %B} with no access to email.",
            when=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        )
    )
    code, out = run(project, "review", "--send", follow_up.keys[0], capsys=capsys)
    assert code == 0, out
    assert not logged(project, "withdrawn")  # an out of office is no lasting reason
    assert proposal_to(project, PRIYA).status == "approved"
    assert not list((project / "outbox").glob("follow_up-*.eml"))
    after = (back + dt.timedelta(days=1)).isoformat()
    code, out = run(project, "nurture", "--send", "--today", after, capsys=capsys)
    assert [r["key"] for r in logged(project, "written") if r["action"] == "follow_up"] == [
        follow_up.keys[0]
    ]


# --- the Review tab cannot stop a run ---------------------------------------------------------


def test_two_review_rows_of_one_proposal_saying_send_and_skip_are_a_conflict_and_nothing_goes(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    assert google.emulator is not None
    rows = google.emulator.values(SHEET_KEY, "Review")
    header = [str(h) for h in rows[0]]
    dana = next(dict(zip(header, r, strict=False)) for r in rows[1:] if r[2] == DANA)
    type_decisions(google, lambda row: "send" if row["to"] == DANA else "")
    add_review_row(google, {**{k: str(v) for k, v in dana.items()}, "decision": "skip"})
    for _ in range(2):
        code, out = run(google, "nurture", "--send", capsys=capsys)
        assert code == 0, out
        assert "conflict: Review!" in out and "thank-you to Dana Whitfield" in out
    assert DANA not in to_partners(smtp_server)
    assert not logged(google, "skipped")
    assert proposal_to(google, DANA).status == "waiting"


def test_a_past_date_typed_in_the_review_tab_is_said_to_be_past_and_sends_no_review_email_again(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    reviews = len(smtp_server.recorder.received)
    past = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    type_decisions(google, lambda row: past if row["to"] == DANA else "")
    for _ in range(2):
        code, out = run(google, "nurture", "--send", capsys=capsys)
        assert code == 0, out
        assert f"decision: {past} is past" in out
    assert len(smtp_server.recorder.received) == reviews  # no review email again
    assert proposal_to(google, DANA).status == "waiting"


# --- a review email that did not go is sent again ---------------------------------------------


def test_a_review_email_that_failed_while_the_mail_server_was_down_is_sent_with_the_next_run(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the mail server is down
        probe.bind(("127.0.0.1", 0))
        down = probe.getsockname()[1]
    use_smtp(project, smtp_server, port=down, retry_attempts=1)
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 2, out
    assert len(proposals(project)) == PARTNER_EMAILS
    use_smtp(project, smtp_server)
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    [review] = [
        r.message for r in smtp_server.recorder.received if "approval" in str(r.message["Subject"])
    ]
    text = review.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{PARTNER_EMAILS}. To " in text  # every proposal, seen at last
    run(project, "nurture", "--send", capsys=capsys)
    reviews = [r for r in smtp_server.recorder.received if "approval" in str(r.message["Subject"])]
    assert len(reviews) == 1  # and once


def move_to_google(project: SheetProject, emulator: SheetsEmulator) -> None:
    """The user moves the project's sheet to Google Sheets; the journal stays in state/."""
    emulator.load_workbook(project / "data" / "partners.xlsx", SHEET_KEY)
    config = project / "config" / "partners.toml"
    text = config.read_text(encoding="utf-8").replace('backend = "xlsx"', 'backend = "google"')
    url = f"https://docs.google.com/spreadsheets/d/{SHEET_KEY}/edit"
    config.write_text(text.replace('spreadsheet = ""', f'spreadsheet = "{url}"'))
    project.emulator = emulator


@pytest.mark.log_write_lost
@pytest.mark.parametrize("carried", [False, True], ids=["moved", "moved-and-carried-over"])
def test_a_run_killed_while_sending_approved_proposals_after_a_move_sends_nothing_twice(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: SmtpServer,
    carried: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = SheetProject(tmp_path, review=True)
    use_smtp(project, smtp_server)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    assert run(project, "review", "--send", thank.keys[0], capsys=capsys)[0] == 0
    emulator = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", emulator.host)
    try:
        move_to_google(project, emulator)
        if carried:
            assert run(project, "carry-over", capsys=capsys)[0] == 0
        assert run(project, "nurture", "--send", capsys=capsys)[0] in (0, 1)
        type_decisions(project, lambda row: "send")  # approve every one in the Review tab
        before = smtp_server.recorder.transactions
        smtp_server.recorder.after_data = ["", "", "hang"]  # the third never gets 250
        process = subprocess.Popen(
            [sys.executable, "-m", "automations", "nurture", "--send"],
            cwd=project.path,
            env=env_for(project),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while smtp_server.recorder.transactions < before + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert smtp_server.recorder.transactions == before + 3
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        code, out = run(project, "nurture", "--send", capsys=capsys)
        assert code == 1, out  # the one in flight is uncertain
        run(project, "nurture", "--send", capsys=capsys)
    finally:
        emulator.stop()
    ids = [str(r.message["Message-ID"]) for r in smtp_server.recorder.received]
    assert len(ids) == len(set(ids))
    partners = to_partners(smtp_server)
    assert partners.count(DANA) == 1
    assert len(partners) == PARTNER_EMAILS  # each approved one went once (one uncertain)


def test_review_rows_whose_append_failed_are_written_by_the_next_run_and_health_regardless(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    emulator = google.emulator
    assert emulator is not None
    failed: list[str] = []

    def before(method: str, path: str) -> None:
        review_append = path.endswith(":append") and "Review" in unquote(path)
        if method == "POST" and review_append and not failed:
            failed.append(path)
            emulator.fail(400)  # this append is refused

    emulator.before = before
    code, out = run(google, "nurture", "--send", capsys=capsys)
    assert failed and code == 2, out
    assert "append to the Review tab" in out
    assert DANA in google.health()  # Health was written all the same
    assert len(emulator.values(SHEET_KEY, "Review")) == 1  # the header only
    code, out = run(google, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    rows = emulator.values(SHEET_KEY, "Review")
    assert len(rows) == 1 + PARTNER_EMAILS
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(emulator.values(SHEET_KEY, "Review")) == 1 + PARTNER_EMAILS  # once


def test_a_decision_typed_into_the_local_toolkit_files_review_tab_is_reported_not_dropped(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    toolkit = project / "data" / "partners.toolkit.xlsx"
    book = load_workbook(toolkit)
    review = book["Review"]
    header = [c.value for c in review[1]]
    row = next(r for r in review.iter_rows(min_row=2) if r[header.index("to")].value == DANA)
    row[header.index("decision")].value = "send"
    book.save(toolkit)
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    thank = proposal_to(project, DANA)
    assert (
        "partners: Review!" in out
        and "the decision 'send' for the thank-you to Dana Whitfield was not applied" in out
        and f"partners review --send {thank.keys[0]}" in out
    )
    assert thank.status == "waiting"
    assert not list((project / "outbox").glob("thank-*.eml"))


def test_a_renamed_or_blanked_review_header_is_rebuilt_and_the_users_decisions_still_apply(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    assert google.emulator is not None
    type_decisions(google, lambda row: "send" if row["to"] == DANA else "")
    tab = google.emulator.spreadsheets[SHEET_KEY].tab("Review")
    assert tab is not None
    header = [str(h) for h in google.emulator.values(SHEET_KEY, "Review")[0]]
    tab.cells[(0, header.index("status"))] = Cell.native("state")  # renamed
    del tab.cells[(0, header.index("decision"))]  # blanked
    del tab.cells[(0, header.index("proposal"))]
    code, out = run(google, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    assert to_partners(smtp_server) == [DANA]
    rows = google.emulator.values(SHEET_KEY, "Review")
    assert [str(h) for h in rows[0]] == header  # the toolkit's header, as it was
    status = {str(r[2]): str(r[header.index("status")]) for r in rows[1:]}
    assert status[DANA] == "sent"
    assert google.health()[DANA]["action"]  # Health written in the same run


def test_a_date_typed_in_the_tab_after_an_approval_in_the_terminal_is_a_conflict_and_it_waits(
    google: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = use_smtp(google, smtp_server)
    assert run(google, "nurture", "--send", capsys=capsys)[0] == 0
    set_keys(config, "mail", holidays=[dt.date.today().isoformat()])  # nothing goes today
    thank = proposal_to(google, DANA)
    code, out = run(google, "review", "--send", thank.keys[0], capsys=capsys)
    assert code == 0, out
    assert proposal_to(google, DANA).status == "approved"
    later = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    type_decisions(google, lambda row: later if row["to"] == DANA else "")
    set_keys(config, "mail", holidays=[])
    code, out = run(google, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    assert "conflict: Review!" in out and "thank-you to Dana Whitfield" in out
    assert DANA not in to_partners(smtp_server)
    assert proposal_to(google, DANA).status != "approved"


def test_a_decision_kept_in_the_terminal_for_an_earlier_proposal_never_applies_to_a_new_one(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from automations.adapters.lock import RunLock

    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    thank = proposal_to(project, DANA)
    with RunLock(project / "state" / "run.lock"):  # a scheduled run holds the lock
        code, out = run(project, "review", "--send", thank.keys[0], capsys=capsys)
        assert code == 0 and "your decisions are kept" in out, out
        # Meanwhile that run withdrew the proposal and the same keys were proposed anew.
        journal = Journal(project / "state" / "journal.sqlite3")
        try:
            anew = replace(thank, proposed_at=thank.proposed_at[:10] + "T23:59:59+00:00")
            journal.keep_proposals([replace(anew, proposal="P-proposed-anew")])
        finally:
            journal.close()
    code, out = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, out
    assert proposal_to(project, DANA).status == "waiting"
    assert not list((project / "outbox").glob("thank-*.eml"))


@pytest.mark.parametrize(
    ("typed", "said"), [(42, "'42'"), (dt.datetime(2026, 12, 20), "'2026-12-20'")]
)
def test_a_decision_typed_in_the_toolkit_files_review_tab_is_quoted_as_the_cell_shows_it(
    project: SheetProject, capsys: pytest.CaptureFixture[str], typed: object, said: str
) -> None:
    # The note quoted Python's own spelling: "the decision datetime.date(2026, 12, 20)".
    run(project, "nurture", "--send", capsys=capsys)
    path = project / "data" / "partners.toolkit.xlsx"
    book = load_workbook(path)
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("decision") + 1).value = typed
    book.save(path)
    _, out = run(project, "nurture", "--send", capsys=capsys)
    assert f"Review!2 of the toolkit file: the decision {said} for the " in out
