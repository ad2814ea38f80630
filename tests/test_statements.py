"""The quarterly referral statement on the demo project (issue 29; RULES.md and EMAIL.md,
Statements): who gets one, that its numbers are the sheet's, at most once, and what the
partners' answers on a real IMAP server become."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from automations import commands
from automations.cli import main
from automations.core.render import money
from automations.core.tables import normalise_header
from automations.demo.workbook import SENDER
from automations.jobs.init import run_init
from tests.conftest import ImapServer, use_imap
from tests.imap_messages import message
from tests.projects import SheetProject
from tests.spam_filter import SPAM_CEILING, needs_spamassassin, spam_scores

INIT = dt.date(2026, 10, 20)  # the demo's data is dated relative to this day
Q3 = (dt.date(2026, 7, 1), dt.date(2026, 10, 1))  # the quarter the statements cover
FIRST_DAY, LAST_DAY = dt.date(2026, 11, 12), dt.date(2026, 11, 25)  # every phase day is past


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    run_init(tmp_path, INIT)  # `partners init` never overwrites: the demo stays of INIT
    return SheetProject(tmp_path)


def run(project: SheetProject, monkeypatch: pytest.MonkeyPatch, day: dt.date, *args: str) -> int:
    """One command on `day`, its clock at 10:00 that day (the Log's times follow it)."""
    clock = at(day)
    # `partners statement` has its module of its own (the name is its function's there).
    for module in (commands, sys.modules["automations.commands.statement"]):
        monkeypatch.setattr(module, "clock_of", lambda settings, now=clock: lambda: now)
    config = str(project / "config" / "partners.toml")
    return main([*args, "--today", day.isoformat(), "--config", config])


def statements(project: SheetProject) -> dict[str, Any]:
    """The statements in the outbox, by recipient (each must be there once)."""
    found: dict[str, Any] = {}
    for path in sorted((project / "outbox").glob("statement-*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        to = msg["To"].addresses[0].addr_spec
        assert to not in found, f"two statements to {to}"
        found[to] = msg
    return found


def a_fortnight_of_runs(project: SheetProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Daily `nurture --send` runs: a partner due a thank-you one day gets the statement
    the next (one partner email per run)."""
    day = FIRST_DAY
    while day <= LAST_DAY:
        assert run(project, monkeypatch, day, "nurture", "--send") in (0, 1)
        day += dt.timedelta(days=1)


@pytest.fixture(scope="module")
def fortnight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project after `a_fortnight_of_runs`, made once for this module."""
    folder = tmp_path_factory.mktemp("fortnight")
    run_init(folder, INIT)
    project = SheetProject(folder)
    with pytest.MonkeyPatch.context() as monkeypatch:
        a_fortnight_of_runs(project, monkeypatch)
    return folder


def after_a_fortnight(project: SheetProject, fortnight: Path) -> None:
    """`project` as the fortnight of runs left it: its folder (sheet, journal, outbox)."""
    shutil.copytree(fortnight, project.path, dirs_exist_ok=True)


def sheet_rows(project: SheetProject, tab: str) -> list[dict[str, Any]]:
    book = load_workbook(project / "data" / "partners.xlsx", read_only=True)
    rows = [list(r) for r in book[tab].iter_rows(values_only=True)]
    book.close()
    header = [normalise_header(str(h)) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(r)]


def in_q3(value: Any) -> bool:
    day = value.date() if isinstance(value, dt.datetime) else value
    return isinstance(day, dt.date) and Q3[0] <= day < Q3[1]


def test_the_demo_sends_one_statement_per_partner_with_referrals_and_its_numbers_are_the_sheets(
    project: SheetProject,
    fortnight: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    after_a_fortnight(project, fortnight)
    capsys.readouterr()
    sent = statements(project)
    referrals = sheet_rows(project, "Referrals")
    partners = {str(p["email"]): p for p in sheet_rows(project, "Partners")}
    health = project.health()
    exchanged = {
        str(r["partner_email"])
        for r in referrals
        if in_q3(r["date"]) and partners[str(r["partner_email"])]["status"] == "active"
    }
    blocked = {e for e, h in health.items() if h["action"] == "blocked"}
    assert len(sent) >= 8
    assert set(sent) == exchanged - blocked
    for email, msg in sent.items():
        text = msg.get_body(("plain",)).get_content()
        rows = [
            r
            for r in referrals
            if r["partner_email"] == email and (in_q3(r["date"]) or in_q3(r["closed_on"]))
        ]
        table = [ln for ln in text.splitlines() if re.match(r"^\d+\s+(from|to)\xa0you", ln)]
        assert len(table) == len(rows), (email, text)
        for r in rows:
            assert str(r["client"]) in text, (email, r["client"])
            if r["status"] == "won" and r["value"]:
                assert money(r["value"], "USD") in text
        owed = float(health[email]["fee_owed"] or 0)
        if "owe you" in text:
            assert f"owe you {money(owed, 'USD')}" in text, (email, owed, text)
        assert "If anything here looks wrong, just reply" in text
        # A person's note: no Markdown pipes, no key-like quarter, no count of zero.
        assert "|" not in text and "2026Q" not in text and not re.search(r"\b0 ", text)
        assert health[email]["statement"].startswith("sent 2026-11-"), health[email]
    for email in set(partners) - exchanged:
        assert email not in sent
        assert not health.get(email, {}).get("statement"), email


def test_a_rerun_sends_no_second_statement(
    project: SheetProject,
    fortnight: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    after_a_fortnight(project, fortnight)
    before = statements(project)
    capsys.readouterr()
    assert run(project, monkeypatch, LAST_DAY, "statement", "--send") in (0, 1)
    out = capsys.readouterr().out
    assert statements(project).keys() == before.keys()
    assert "Nothing is due: no email written." in out
    keys = [r["key"] for r in project.log_rows() if r["action"] == "statement"]
    assert len(keys) == len(set(keys)) == len(before)
    assert all(k.endswith(":2026Q4") for k in keys)


def test_partners_statement_is_a_dry_run_without_send(
    project: SheetProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, monkeypatch, FIRST_DAY, "statement") in (0, 1)
    out = capsys.readouterr().out
    assert "Dry run:" in out and "statement" in out
    assert "Our referrals, July to September" in out
    assert not (project / "outbox").exists() or not statements(project)
    assert run(project, monkeypatch, FIRST_DAY, "health") in (0, 1)
    actions = {h["action"] for h in project.health().values()}
    assert "statement" in actions  # the sample shows the action in a quarter's first weeks


def test_statements_wait_for_approval_under_the_review_partners_init_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_init(tmp_path, INIT)
    project = SheetProject(tmp_path, review=True)
    assert run(project, monkeypatch, FIRST_DAY, "statement", "--send") in (0, 1)
    capsys.readouterr()
    proposed = [r for r in project.log_rows() if r["action"] == "statement"]
    assert proposed and {r["status"] for r in proposed} == {"proposed"}
    assert not statements(project)


def reply_to(msg: Any, body: str, ident: str, **headers: str) -> bytes:
    """The partner's answer in the statement's thread, with the statement quoted below."""
    quoted = "\n".join("> " + ln for ln in msg.get_body(("plain",)).get_content().splitlines())
    sender = msg["To"].addresses[0]
    return message(
        f"{sender.display_name} <{sender.addr_spec}>",
        SENDER,
        "Re: " + str(msg["Subject"]),
        in_reply_to=str(msg["Message-ID"]),
        ident=ident,
        body=f"{body}\n\nOn 20 Nov 2026, Alex Rivera wrote:\n{quoted}\n",
        when=at(dt.date(2026, 11, 26)),
        headers=headers,
    )


def test_answers_on_a_real_imap_server_are_confirmed_disputed_or_nothing(
    project: SheetProject,
    fortnight: Path,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    after_a_fortnight(project, fortnight)
    sent = statements(project)
    agrees, corrects, away = sorted(sent)[:3]
    use_imap(project, imap_server, monkeypatch)
    imap_server.append_all(
        [
            reply_to(sent[agrees], "All correct, thanks!", "<a1@partner.example>"),
            reply_to(sent[corrects], "#2 closed in May, not June", "<a2@partner.example>"),
            reply_to(
                sent[away],
                "I am out of the office until 30 November with limited access to email.",
                "<a3@partner.example>",
                **{"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
            ),
        ]
    )
    day = dt.date(2026, 11, 27)
    assert run(project, monkeypatch, day, "replies") == 0
    capsys.readouterr()
    answers = {
        r["partner_email"]: r
        for r in project.log_rows()
        if r["status"] in ("confirmed", "disputed", "reply", "unsubscribe")
    }
    assert answers[agrees]["status"] == "confirmed"
    assert answers[agrees]["action"] == "statement"
    assert answers[corrects]["status"] == "disputed"
    assert answers[corrects]["detail"] == "#2 closed in May, not June"
    assert away not in answers  # an out-of-office changes nothing
    assert run(project, monkeypatch, day, "health") in (0, 1)
    health = project.health()
    assert health[agrees]["statement"] == "confirmed 2026-11-26"
    assert health[corrects]["statement"] == "disputed 2026-11-26"
    assert health[away]["statement"].startswith("sent ")
    assert health[corrects]["action"] != "blocked"  # an engagement, never an opt-out
    capsys.readouterr()
    assert run(project, monkeypatch, day, "digest") in (0, 1)
    digest = capsys.readouterr().out
    assert "Statements your partners corrected" in digest
    assert '"#2 closed in May, not June"' in digest
    status = project._tab("Status")
    assert any("#2 closed in May, not June" in str(r) for r in status), status


def test_a_touches_row_of_kind_statement_settles_a_dispute(
    project: SheetProject,
    fortnight: Path,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    after_a_fortnight(project, fortnight)
    sent = statements(project)
    corrects = sorted(sent)[0]
    use_imap(project, imap_server, monkeypatch)
    imap_server.append(reply_to(sent[corrects], "Ridge was won in May", "<a4@partner.example>"))
    assert run(project, monkeypatch, dt.date(2026, 11, 27), "replies") == 0
    assert run(project, monkeypatch, dt.date(2026, 11, 27), "health") in (0, 1)
    assert project.health()[corrects]["statement"] == "disputed 2026-11-26"
    book_path = project / "data" / "partners.xlsx"
    book = load_workbook(book_path)
    book["Touches"].append([dt.datetime(2026, 11, 28), corrects, "statement", "out", "fixed"])
    book.save(book_path)
    capsys.readouterr()
    assert run(project, monkeypatch, dt.date(2026, 11, 30), "digest") in (0, 1)
    assert "Statements your partners corrected" not in capsys.readouterr().out
    assert run(project, monkeypatch, dt.date(2026, 11, 30), "health") in (0, 1)
    assert project.health()[corrects]["statement"] == "settled 2026-11-28"


@needs_spamassassin
def test_three_statements_score_at_most_1_in_spamassassins_local_rules(
    project: SheetProject,
    fortnight: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    after_a_fortnight(project, fortnight)
    capsys.readouterr()
    scores = spam_scores(sorted((project / "outbox").glob("statement-*.eml"))[:3])
    assert len(scores) == 3
    for path, score in scores.items():
        print(f"SpamAssassin {path.name}: {score}")
    assert max(scores.values()) <= SPAM_CEILING
