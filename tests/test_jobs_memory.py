"""Jobs without any server: the sample sheet in memory, the in-memory mailer (fast; the real
servers stay in the adapter and end-to-end tests)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import replace
from pathlib import Path

from automations.adapters.mail.memory import MemoryMailer
from automations.adapters.sheet.memory import MemorySheet
from automations.config import Settings, parse_settings
from automations.core.vocabulary import PARTNER_KINDS
from automations.demo.workbook import SENDER, sample_sheet
from automations.jobs.pipeline import RunOptions, run
from automations.jobs.plans import PLANS
from tests.projects import email_rows
from tests.test_nurture import DUE

ROOT = Path(__file__).parent.parent
TODAY = dt.date.today()


def settings_for(folder: Path) -> Settings:
    """The example config, sending "by SMTP" (the in-memory mailer stands in for it)."""
    data = tomllib.loads((ROOT / "config" / "partners.example.toml").read_text())
    data.setdefault("mail", {}).update(backend="smtp", host="127.0.0.1", review="none")
    data.setdefault("survey", {})["form_url"] = "https://docs.google.com/forms/d/e/1FAIpQL/viewform"
    return parse_settings(data, folder)


def send(folder: Path, sheet: MemorySheet, mailer: MemoryMailer) -> int:
    clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
    options = RunOptions(send=True)
    result = run(
        settings_for(folder), TODAY, clock, PLANS["nurture"], options, mailer=mailer, sheet=sheet
    )
    return result.exit_code


def test_the_sample_sheet_gets_every_due_email_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    sheet = MemorySheet(sample_sheet(TODAY), settings.sheet.tabs)
    mailer = MemoryMailer()
    assert send(tmp_path, sheet, mailer) == 0
    got = {m.recipient for m in mailer.sent}
    assert got == {to for _, to in DUE}
    assert len(mailer.sent) == len(DUE)
    assert {r["status"] for r in email_rows(sheet.rows("Log"))} == {"sent"}
    assert send(tmp_path, sheet, mailer) == 0  # a rerun sends nothing
    assert len(mailer.sent) == len(DUE)


def test_a_refused_address_is_blocked_in_the_health_the_run_writes(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    sheet = MemorySheet(sample_sheet(TODAY), settings.sheet.tabs)
    mailer = MemoryMailer(refuse={"maya@goldberg.example": "550 5.1.1 no such mailbox"})
    assert send(tmp_path, sheet, mailer) == 1
    health = {r["email"]: r for r in sheet.rows("Health")}
    assert health["maya@goldberg.example"]["action"] == "blocked"
    assert sheet.writes == 1  # one write per run


def test_each_plan_sends_its_own_kinds_through_the_one_pipeline(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    sheet = MemorySheet(sample_sheet(TODAY), settings.sheet.tabs)
    mailer = MemoryMailer()
    clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
    kinds = {}
    for name in ("digest", "survey", "nurture"):
        result = run(
            settings, TODAY, clock, PLANS[name], RunOptions(send=True), mailer=mailer, sheet=sheet
        )
        assert result.report is not None
        kinds[name] = {p.draft.kind for p, _ in result.report.outcomes}
    assert kinds["digest"] == {"digest"}
    assert kinds["survey"] and kinds["survey"] <= {"survey", "survey_owner"}
    assert "digest" not in kinds["nurture"] and "survey" not in kinds["nurture"]
    sent_runs = [r for r in sheet.rows("Log") if r["action"] == "run"]
    assert [str(r["detail"]).split(":")[0] for r in sent_runs] == ["digest", "survey", "nurture"]


def test_an_approval_sends_the_proposals_bytes_and_records_its_keys_not_todays_draft() -> None:
    from automations.core.mail.draft import Draft
    from automations.core.review import Proposal
    from automations.jobs.review.approved import Approved
    from automations.jobs.sending import Prepared, entries_for

    data = b"Date: Mon, 01 Jun 2026 09:00:00 +0000\r\nSubject: Thanks\r\n\r\nThank you, Dana.\r\n"
    proposal = Proposal(
        "<pa.1@me.example>", ("thank:dana@p.example:2026-05-30",), "thank", "thank",
        ("dana@p.example",), "dana@p.example", "Dana", "me@me.example", "Thanks", "", "",
        "2026-06-01T09:00:00+00:00", status="approved", data=data, copies=(),
    )  # fmt: skip
    today = Draft(
        "thank", "thank", "dana@p.example", "Dana",
        ("thank:dana@p.example:2026-05-30", "thank:dana@p.example:2026-06-02"),
        ("dana@p.example", "dana@p.example"), {},
    )  # fmt: skip
    now = dt.datetime(2026, 6, 3, 10, 0, tzinfo=dt.UTC)
    approved = Approved(proposal, today, now)
    assert not isinstance(approved, Prepared)
    assert approved.as_bytes().endswith(b"\r\n\r\nThank you, Dana.\r\n")
    assert b"Date: Wed, 03 Jun 2026 10:00:00 +0000" in approved.as_bytes()
    entries = entries_for(approved, "sent", "", "t", "run")
    assert [e.key for e in entries] == ["thank:dana@p.example:2026-05-30"]
    assert approved.text.strip() == "Thank you, Dana."


def test_max_per_run_sends_the_most_important_first_and_the_next_run_the_rest(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    settings = replace(settings, mail=replace(settings.mail, max_per_run=3))
    sheet = MemorySheet(sample_sheet(TODAY), settings.sheet.tabs)
    mailer = MemoryMailer()
    clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
    options = RunOptions(send=True)
    run(settings, TODAY, clock, PLANS["nurture"], options, mailer=mailer, sheet=sheet)
    first = [m.recipient for m in mailer.sent]
    assert sorted(first) == sorted([SENDER, "dana@northwind.example", "marcus@brightpath.example"])
    run(settings, TODAY, clock, PLANS["nurture"], options, mailer=mailer, sheet=sheet)
    assert len(mailer.sent) == 6 and len(set(m.recipient for m in mailer.sent)) == 6


def test_under_review_only_the_email_approved_in_the_review_tab_goes(tmp_path: Path) -> None:
    # The in-memory sheet stands in for a Google Sheet: decisions typed into a local
    # workbook's Review tab are said, not applied (it is the toolkit's own file).
    settings = settings_for(tmp_path)
    settings = replace(
        settings,
        mail=replace(settings.mail, review=tuple(PARTNER_KINDS)),
        sheet=replace(settings.sheet, backend="google"),
    )
    sheet = MemorySheet(sample_sheet(TODAY), settings.sheet.tabs)
    mailer = MemoryMailer()
    clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
    options = RunOptions(send=True)
    run(settings, TODAY, clock, PLANS["nurture"], options, mailer=mailer, sheet=sheet)
    assert [m.recipient for m in mailer.sent] == [SENDER, SENDER]  # the escalation, the review
    review = sheet.tabs[settings.sheet.tabs.review]
    header = review[0]
    (dana,) = [r for r in review[1:] if r[header.index("to")] == "dana@northwind.example"]
    dana[header.index("decision")] = "send"
    for _ in range(2):  # the second run finds nothing new to send
        run(settings, TODAY, clock, PLANS["nurture"], options, mailer=mailer, sheet=sheet)
    partners = [m.recipient for m in mailer.sent if m.recipient != SENDER]
    assert partners == ["dana@northwind.example"]
