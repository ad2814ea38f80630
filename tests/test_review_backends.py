"""Review decisions survive a change of mail backend (EMAIL.md, review: moving between
backends keeps every decision)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from automations.adapters.state import Journal
from automations.cli import main
from automations.core.review import Proposal
from tests.conftest import use_smtp
from tests.projects import SheetProject
from tests.smtp_server import SmtpServer

DANA = "dana@northwind.example"  # her thank-you is due today
ZOE = "zoe@nunez.example"  # her outcome is due today


def run(project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    assert code in (0, 1), out + err
    return out + err


def proposals(project: SheetProject) -> dict[str, Proposal]:
    journal = Journal(project / "state" / "journal.sqlite3")
    try:
        return {p.to_email: p for p in journal.proposals()}
    finally:
        journal.close()


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    return SheetProject(tmp_path, review=True)


def test_a_later_decision_made_on_the_outbox_holds_after_switching_to_smtp(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    run(project, capsys, "nurture", "--send")
    thank = proposals(project)[DANA]
    later = dt.date.today() + dt.timedelta(days=5)
    run(project, capsys, "review", "--later", thank.keys[0], later.isoformat())
    zoe = proposals(project)[ZOE]
    run(project, capsys, "review", "--send", zoe.keys[0])  # written to the outbox at once
    use_smtp(project, smtp_server)
    out = run(project, capsys, "nurture", "--send")
    now = proposals(project)
    assert now[DANA].status == "later" and now[DANA].later_until == later.isoformat(), out
    # EMAIL.md: what the outbox wrote never reached Zoe, so under SMTP it is proposed anew
    # (a new proposal, waiting), never sent on the outbox's approval.
    assert now[ZOE].status == "waiting"
    assert ZOE not in {r.rcpt_tos[0] for r in smtp_server.recorder.received}
    assert DANA not in {r.rcpt_tos[0] for r in smtp_server.recorder.received}
    out = run(project, capsys, "nurture", "--send", "--today", later.isoformat())
    assert proposals(project)[DANA].status == "waiting"  # shown again on its day, not sent
    assert DANA not in {r.rcpt_tos[0] for r in smtp_server.recorder.received}


def test_a_terminal_decision_on_an_email_another_run_already_sent_is_no_error(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by the hostile pass: `quit` in an interactive review ended in exit 2 ("no
    # proposal waiting … has the key '<pa.…>'") when a scheduled run had sent it meanwhile.
    from automations.config import load_settings
    from automations.core.review import Decision
    from automations.jobs.review import command as approval

    run(project, capsys, "nurture", "--send")
    thank = proposals(project)[DANA]
    run(project, capsys, "review", "--send", thank.keys[0])  # the other run sends it
    assert proposals(project)[DANA].status == "sent"
    settings = load_settings(project / "config" / "partners.toml")
    recorded = approval.record(settings, {thank.ident: Decision("send")}, dt.datetime.now)
    assert recorded.applied == [] and not recorded.deferred
