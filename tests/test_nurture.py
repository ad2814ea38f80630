"""`partners nurture` end to end: the sample project, a real SMTP server, the journal, the Log."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from email.header import decode_header
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from automations.cli import main
from automations.core.messages import message_id
from automations.demo.workbook import SENDER
from tests.conftest import set_keys, use_smtp
from tests.projects import (
    SHEET_KEY,
    SheetProject,
    email_rows,
    env_for,
    on_both_sheets,
    run_rows,
    sample_project,
)
from tests.smtp_server import PASSWORD, SmtpServer

# What the sample project has due today (see automations/demo/workbook.py).
DUE = {
    ("escalation", SENDER),
    ("thank", "dana@northwind.example"),
    ("thank", "marcus@brightpath.example"),
    ("outcome", "zoe@nunez.example"),
    ("follow_up", "priya@stackwise.example"),
    ("survey", "aiko@kumo.example"),
    ("survey", "fatima@atlas.example"),
    ("nurture", "maya@goldberg.example"),
    ("nurture", "lena@fischer.example"),
    ("nurture", "rafael@costa.example"),
}
KIND_OF = {to: kind for kind, to in DUE if kind != "escalation"}


def run(
    project: SheetProject, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SheetProject]:
    """The sample project (on the Sheets emulator too, for a test `on_both_sheets`)."""
    yield from sample_project(request, tmp_path, monkeypatch)


def log_rows(project: SheetProject) -> list[dict[str, Any]]:
    return project.log_rows()


def health(project: SheetProject) -> dict[str, dict[str, Any]]:
    return project.health()


def received(server: SmtpServer) -> set[tuple[str, str]]:
    return {
        ("escalation" if r.rcpt_tos[0] == SENDER else KIND_OF[r.rcpt_tos[0]], r.rcpt_tos[0])
        for r in server.recorder.received
    }


def journal(project: SheetProject) -> dict[str, str]:
    db = sqlite3.connect(project / "state" / "journal.sqlite3")
    try:
        return dict(db.execute("SELECT key, status FROM sends").fetchall())
    finally:
        db.close()


def cli(
    project: SheetProject, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`partners ...` as its own process, as cron would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "automations", *args],
        cwd=project.path,
        env={**env_for(project), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- outbox (the default) --------------------------------------------------------------------


@on_both_sheets
def test_send_on_the_outbox_writes_one_eml_per_due_email_and_a_rerun_writes_none(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    files = sorted(p.name for p in (project / "outbox").glob("*.eml"))
    assert len(files) == len(DUE)
    assert "outbox/outcome-zoe@nunez.example-" in out
    assert {r["status"] for r in email_rows(log_rows(project))} == {"written"}
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    assert "Nothing is due" in out
    assert run_rows(log_rows(project)) == [
        ("ok", f"nurture: emails: {len(DUE)} written"),
        ("ok", "nurture: no email was due"),
    ]
    assert len(list((project / "outbox").glob("*.eml"))) == len(DUE)


@on_both_sheets
def test_an_address_in_the_unsubscribes_tab_gets_nothing_and_health_says_since_when(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    # A one-question Google Form's responses tab: its own header for the email question.
    project.add_tab(
        "Unsubscribes",
        [
            ["Timestamp", "Email address"],
            ["2026-11-20 09:14:00", "Zoe@Nunez.example"],
            ["2026-11-28 10:00:00", "zoe@nunez.example"],
            ["2026-11-21 08:00:00", "someone@not-a-partner.example"],
            [None, "maya@goldberg.example"],  # typed by hand, without a time: still blocks
        ],
    )
    code, _out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    sent = {p.name.split("-")[1] for p in (project / "outbox").glob("*.eml")}
    assert "zoe@nunez.example" not in sent and "maya@goldberg.example" not in sent
    assert len(sent) == len({to for _, to in DUE}) - 2
    zoe = health(project)["zoe@nunez.example"]
    assert zoe["reason"] == "unsubscribed (Unsubscribes tab) on 2026-11-20"
    assert zoe["action"] == "blocked"


def test_a_dry_run_prints_what_would_go_and_writes_nothing(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(project, "nurture", capsys=capsys)
    assert code == 0
    assert "Dry run: 10 email(s) would be written to the outbox" in out
    assert "zoe@nunez.example" in out and "Good news about Vela Foods" in out
    assert not (project / "outbox").exists()
    assert not project.wrote()
    assert not (project / "state").exists()


def test_baseline_records_everything_due_as_handled_and_sends_nothing(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(project, "nurture", "--baseline", capsys=capsys)
    assert code == 0
    assert "Baseline: 13 due email(s) (14 item(s)) recorded as handled" in out
    assert not (project / "outbox").exists()
    skipped = email_rows(log_rows(project))
    assert {r["status"] for r in skipped} == {"skipped"}
    assert run_rows(log_rows(project)) == [
        ("ok", "nurture --baseline: 13 email(s) recorded as handled, none sent")
    ]
    # What was due, and what one email per partner hid behind it (surveys behind thanks).
    assert len(skipped) == 14
    # Each one is named, as it will never be sent (a new user found 13 against a dry run's 10).
    for row in skipped:
        assert f"to {row['partner_email']}: {row['key']}" in out
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert "Nothing is due" in out


def test_only_and_limit_choose_what_goes(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        project, "nurture", "--send", "--only", "thank", "--limit", "1", capsys=capsys
    )
    assert code == 0
    assert [p.name.split("-")[0] for p in (project / "outbox").glob("*.eml")] == ["thank"]
    assert "1 more email(s) are due and wait for the next run (--limit)" in out


# --- SMTP ------------------------------------------------------------------------------------


def test_every_message_over_starttls_and_login_is_well_formed(
    project: SheetProject,
    tls_smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_smtp(project, tls_smtp_server)
    monkeypatch.setenv("PARTNERS_SMTP_PASSWORD", PASSWORD)
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    assert "partners:" not in err
    assert "Sent 10 email(s)" in out
    assert received(tls_smtp_server) == DUE
    by_to = {r.rcpt_tos[0]: r.message for r in tls_smtp_server.recorder.received}
    for to, m in by_to.items():
        assert m["From"].addresses[0].display_name == "Alex Rivera"
        assert m["To"].addresses[0].addr_spec == to
        assert m["Date"].datetime is not None
        assert m["Message-ID"].endswith("@rivera-consulting.example>")
        assert m.get_content_type() == "multipart/alternative"
        assert m.get_body(("plain",)) and m.get_body(("html",))
        if to == SENDER:
            assert m["Auto-Submitted"] == "auto-generated"
        else:
            assert m["List-Unsubscribe"].startswith(f"<mailto:{SENDER}?subject=unsubscribe>")
    follow_up = by_to["priya@stackwise.example"]
    outreach_id = message_id(("campaign:platforms-2026:priya@stackwise.example",), SENDER)
    assert follow_up["In-Reply-To"] == outreach_id
    assert follow_up["References"] == outreach_id
    assert follow_up["Subject"] == "Re: Quick hello from Alex Rivera"
    zoe = tls_smtp_server.recorder.by_recipient("zoe@nunez.example")[0]
    to_header = zoe.raw.split(b"\r\nTo: ", 1)[1].split(b"\r\n", 1)[0].decode()
    assert "".join(
        w.decode(c) if c else w.decode() for w, c in decode_header(to_header)
    ).startswith("Zoë Ñúñez")
    assert zoe.message.get_body(("plain",)).get_content().startswith("Hi Zoë,")
    sent = email_rows(log_rows(project))
    assert {r["status"] for r in sent} == {"sent"}
    assert {r["message_id"] for r in sent} == {m["Message-ID"] for m in by_to.values()}


def test_a_second_run_on_the_same_day_sends_nothing(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    assert "Nothing is due" in out
    assert len(smtp_server.recorder.received) == len(DUE)


def test_two_runs_started_at_once_one_sends_and_the_other_exits_2(
    project: SheetProject, smtp_server: SmtpServer
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.delay = 0.3  # keep the first run busy while the second starts
    runs = [cli(project, "nurture", "--send") for _ in range(2)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in runs]  # type: ignore[union-attr]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(r for r in results if r[0] == 2)
    assert "another partners run is working on this sheet" in loser[2]
    assert "Traceback" not in loser[2]
    assert len(smtp_server.recorder.received) == len(DUE)


# --- faults ----------------------------------------------------------------------------------


def test_a_451_is_retried_and_the_email_is_sent_once(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.rcpt_replies["zoe@nunez.example"] = ["451 4.3.0 greylisted"]
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(smtp_server.recorder.by_recipient("zoe@nunez.example")) == 1
    zoe = [r for r in log_rows(project) if r["partner_email"] == "zoe@nunez.example"]
    assert [r["status"] for r in zoe if r["run_id"] != "history"] == ["sent"]


def test_a_550_fails_that_email_only_blocks_the_address_and_exits_1(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.rcpt_replies["maya@goldberg.example"] = ["550 5.1.1 no such mailbox"]
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert "failed: nurture to maya@goldberg.example: 550 5.1.1 no such mailbox" in err
    assert received(smtp_server) == DUE - {("nurture", "maya@goldberg.example")}
    maya = [
        r
        for r in log_rows(project)
        if r["partner_email"] == "maya@goldberg.example" and r["run_id"] != "history"
    ]
    assert [(r["status"], r["detail"]) for r in maya] == [("failed", "550 5.1.1 no such mailbox")]
    run(project, "health", capsys=capsys)
    assert health(project)["maya@goldberg.example"]["action"] == "blocked"


@on_both_sheets
def test_the_health_written_by_the_run_that_got_a_550_shows_the_partner_blocked(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.rcpt_replies["maya@goldberg.example"] = ["550 5.1.1 no such mailbox"]
    code, _, _err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    maya = health(project)["maya@goldberg.example"]
    assert maya["action"] == "blocked"
    assert str(maya["reason"]).startswith("address refused by the mail server on")
    assert health(project)["marcus@brightpath.example"]["action"] == "thank"  # what it did


def test_a_drop_before_the_end_of_data_reconnects_and_sends_once(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.drops_at_data = 1
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    assert len(smtp_server.recorder.received) == len(DUE)
    assert received(smtp_server) == DUE


def test_a_drop_after_data_is_uncertain_listed_by_check_and_never_resent(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.after_data = ["drop"]  # the first email: the escalation
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert f"uncertain: escalation to {SENDER}" in err
    assert len(smtp_server.recorder.received) == len(DUE)
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert "Nothing is due" in out
    assert len(smtp_server.recorder.received) == len(DUE)
    code, _, err = run(project, "check", capsys=capsys)
    assert code == 1
    assert "uncertain: escalation:dana@northwind.example:received:" in err
    key = next(k for k, s in journal(project).items() if s == "uncertain" and "dana" in k)
    code, out, _ = run(project, "resolve", key, "--retry", capsys=capsys)
    assert code == 0
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert "Sent 1 email(s) (1 escalation)" in out
    assert journal(project)[key] == "sent"


def test_resolve_sent_settles_an_uncertain_key_for_good(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.after_data = ["drop"]
    run(project, "nurture", "--send", capsys=capsys)
    uncertain = [k for k, s in journal(project).items() if s == "uncertain"]
    for key in uncertain:
        assert run(project, "resolve", key, "--sent", capsys=capsys)[0] == 0
    code, _, err = run(project, "check", capsys=capsys)
    assert "uncertain:" not in err
    code, _, err = run(project, "resolve", uncertain[0], "--sent", capsys=capsys)
    assert code == 2
    assert "is not uncertain (its state: sent)" in err


@pytest.mark.log_write_lost
@on_both_sheets
def test_a_run_killed_mid_send_never_sends_twice_and_reports_the_one_in_flight(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    smtp_server.recorder.after_data = ["", "", "hang"]  # the third email never gets its 250
    process = cli(project, "nurture", "--send")
    deadline = time.monotonic() + 60
    while smtp_server.recorder.transactions < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp_server.recorder.transactions == 3
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    states = journal(project)
    assert list(states.values()).count("pending") == 1  # the third email, in flight
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    in_flight = next(k for k, s in journal(project).items() if s == "uncertain")
    assert f"uncertain: {in_flight}" in err
    counts: dict[str, int] = {}
    for r in smtp_server.recorder.received:
        counts[r.message["Message-ID"]] = counts.get(r.message["Message-ID"], 0) + 1
    assert set(counts.values()) == {1}
    assert received(smtp_server) == DUE
    logged = {(r["key"], r["status"]) for r in log_rows(project)}
    assert (in_flight, "uncertain") in logged
    assert sum(1 for _, s in logged if s == "sent") >= len(DUE) - 1


@pytest.mark.log_write_lost
@on_both_sheets
def test_journal_rows_missing_from_the_log_are_appended_on_the_next_run(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    run(project, "health", capsys=capsys)
    project.save_toolkit_tabs()
    run(project, "nurture", "--send", capsys=capsys)
    project.restore_toolkit_tabs()  # as if the Log write had been lost
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    assert "Nothing is due" in out
    assert len(smtp_server.recorder.received) == len(DUE)
    assert (
        sum(1 for r in log_rows(project) if r["status"] == "sent" and r["run_id"] != "history")
        == 11
    )


# --- limits ----------------------------------------------------------------------------------


def test_max_per_run_sends_the_highest_priority_first_and_leaves_the_rest_due(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server, max_per_run=3)
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    assert received(smtp_server) == {
        ("escalation", SENDER),
        ("thank", "dana@northwind.example"),
        ("thank", "marcus@brightpath.example"),
    }
    assert "7 more email(s) are due and wait for the next run (max_per_run)" in out
    run(project, "nurture", "--send", capsys=capsys)
    assert len(smtp_server.recorder.received) == 6


def test_max_per_day_counts_the_last_24_hours_from_the_journal(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server, max_per_run=4, max_per_day=6)
    run(project, "nurture", "--send", capsys=capsys)
    code, out, _ = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0
    assert len(smtp_server.recorder.received) == 6
    assert "4 more email(s) are due and wait for the next run (max_per_day" in out


# --- templates and secrets -------------------------------------------------------------------


def test_a_template_naming_a_missing_field_holds_back_that_kind_only(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    thank = project / "templates" / "thank.md"
    thank.write_text(thank.read_text() + "\nP.S. {{ partner.nickname }}\n")
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    errors = [line for line in err.splitlines() if "template" in line]
    assert len(errors) == 1
    assert "no thank email sent (2 held back)" in errors[0]
    assert "templates/thank.md line" in errors[0] and "'nickname'" in errors[0]
    assert received(smtp_server) == {d for d in DUE if d[0] != "thank"}


@on_both_sheets
def test_the_password_never_appears_in_output_files_journal_or_log(
    project: SheetProject,
    tls_smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = use_smtp(project, tls_smtp_server)
    (project / ".env").write_text(f"PARTNERS_SMTP_PASSWORD={PASSWORD}\n")
    monkeypatch.delenv("PARTNERS_SMTP_PASSWORD", raising=False)
    outputs = []
    for args in (["nurture", "--send", "-v"], ["check", "-v"], ["nurture", "--send", "-v"]):
        outputs.append(run(project, *args, capsys=capsys))
    assert outputs[0][0] == 0 and len(tls_smtp_server.recorder.received) == len(DUE)
    (project / ".env").write_text("PARTNERS_SMTP_PASSWORD=not-the-password\n")
    set_keys(config, "mail", username="alex")
    outputs.append(run(project, "check", "-v", capsys=capsys))
    assert outputs[-1][0] == 2
    assert "refused the login" in outputs[-1][2]
    texts = [out + err for _, out, err in outputs]
    if project.emulator is not None:  # every cell of every tab of the Google sheet
        sheet = project.emulator.spreadsheets[SHEET_KEY]
        texts.extend(repr(project.emulator.values(SHEET_KEY, t.title)) for t in sheet.tabs)
    for path in project.path.rglob("*"):
        if path.is_file() and path.name != ".env":
            data = path.read_bytes()
            texts.append(data.decode("latin-1"))
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as z:
                    texts.extend(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    for r in tls_smtp_server.recorder.received:
        texts.append(r.raw.decode("latin-1"))
    assert all(PASSWORD not in t for t in texts)
    assert any("state" in str(p) for p in project.path.rglob("journal.sqlite3"))


def test_check_logs_in_to_the_smtp_server_and_says_so(
    project: SheetProject,
    tls_smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_smtp(project, tls_smtp_server)
    monkeypatch.setenv("PARTNERS_SMTP_PASSWORD", PASSWORD)
    code, out, _ = run(project, "check", capsys=capsys)
    assert f"mail: connected to 127.0.0.1:{tls_smtp_server.port} as alex (starttls): OK" in out
    assert not tls_smtp_server.recorder.received
    monkeypatch.delenv("PARTNERS_SMTP_PASSWORD")
    code, _, err = run(project, "check", capsys=capsys)
    assert code == 2
    assert "[mail] username is set but PARTNERS_SMTP_PASSWORD is not" in err


def test_a_line_break_in_a_name_stops_that_email_only(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    row = project.set_partner(
        "zoe@nunez.example", "name", "Zoë Ñúñez\r\nBcc: everyone@evil.example"
    )
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert f"outcome to zoe@nunez.example not sent (Partners!{row}):" in err
    assert "line break" in err
    assert received(smtp_server) == DUE - {("outcome", "zoe@nunez.example")}
    assert all(b"evil.example" not in r.raw for r in smtp_server.recorder.received)
    assert all(r.rcpt_tos != ["everyone@evil.example"] for r in smtp_server.recorder.received)


def test_a_partner_with_a_bad_date_stays_in_health_as_fix_row_and_gets_no_email(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    row = project.set_partner("maya@goldberg.example", "first_contact", "31/02/2026")
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    problem = f"Partners!{row} first_contact: '31/02/2026' is not a valid date ("
    assert next(line for line in err.splitlines() if "Partners!" in line).startswith(
        f"partners: {problem}"
    )
    assert received(smtp_server) == DUE - {("nurture", "maya@goldberg.example")}
    maya = project.health()["maya@goldberg.example"]
    assert (maya["name"], maya["action"]) == ("Maya Goldberg", "fix row")
    assert str(maya["reason"]).startswith(problem)
    assert "zoe@nunez.example" in project.health()


def test_preview_of_a_partner_whose_row_has_a_problem_quotes_the_problem(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    row = project.set_partner("maya@goldberg.example", "first_contact", "31/02/2026")
    code, out, err = run(
        project, "preview", "nurture", "--partner", "maya@goldberg.example", capsys=capsys
    )
    assert (code, out) == (1, "")
    assert err.startswith(
        "partners: Maya Goldberg (maya@goldberg.example): the partner's row has a problem, so "
        f"no email goes to them until it is fixed: Partners!{row} first_contact: '31/02/2026' "
        "is not a valid date ("
    )
    assert "no partner with email" not in err


def test_surveys_never_go_out_by_smtp_with_the_samples_placeholder_form(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = use_smtp(project, smtp_server)
    set_keys(
        config, "survey", form_url="https://docs.google.com/forms/d/e/EXAMPLE-FORM-ID/viewform"
    )
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert "2 survey email(s) held back: [survey] form_url is still the sample's placeholder" in err
    assert received(smtp_server) == {d for d in DUE if d[0] != "survey"}


def test_a_partner_due_a_survey_and_a_check_in_gets_the_check_in_when_surveys_wait(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 10, item 13: with the sample's placeholder form, such a partner got neither.
    config = use_smtp(project, smtp_server)
    set_keys(
        config, "survey", form_url="https://docs.google.com/forms/d/e/EXAMPLE-FORM-ID/viewform"
    )
    project.set_partner("aiko@kumo.example", "cadence_days", 1)  # a check-in is due too
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert "check-ins and the other emails go" in err
    assert ("nurture", "aiko@kumo.example") in {
        ("nurture", r.rcpt_tos[0]) for r in smtp_server.recorder.received
    }
    assert not any(b"EXAMPLE-FORM-ID" in r.raw for r in smtp_server.recorder.received)


def test_a_key_in_two_drafts_of_one_run_goes_once(
    project: SheetProject, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    import datetime as dt

    from automations.adapters.state import Journal
    from automations.config import load_settings
    from automations.core.mail.draft import Draft
    from automations.core.mail.letterhead import Letterhead, Sender
    from automations.core.mail.partner import partner_facts
    from automations.jobs.sending import deliver, prepare
    from automations.jobs.wiring import load_templates, open_mailer

    settings = load_settings(use_smtp(project, smtp_server))
    now = dt.datetime.now(dt.UTC)
    letterhead = Letterhead(Sender("A", "a@a.example"))
    context = partner_facts(
        {"name": "Pat", "company": "", "email": "pat@p.example"}, {}, [], letterhead, now.date()
    )
    twice = [
        Draft(
            "nurture",
            "nurture",
            "pat@p.example",
            "Pat",
            ("nurture:pat@p.example:never",),
            ("pat@p.example",),
            context,
        )
        for _ in range(2)
    ]
    prepared = prepare(twice, load_templates(settings), settings, now)
    assert not prepared.faults
    ready = prepared.ready
    journal = Journal(tmp_path / "j.sqlite3")
    report = deliver(
        ready,
        open_mailer(settings),
        journal,
        sender=settings.sender.email,
        run_id="r",
        clock=lambda: now,
    )
    assert len(smtp_server.recorder.received) == 1
    assert len(report.refused_again) == 1


# --- one bad address, cell or setting costs its own email, never the run (issue 10) ----------


def _non_ascii_partners(project: SheetProject) -> None:
    project.set_partner("lena@fischer.example", "email", "léna@fischer.example")
    project.set_partner("rafael@costa.example", "email", "rafael@cósta.example")


def test_non_ascii_addresses_go_with_smtputf8_and_an_idna_domain(
    project: SheetProject, utf8_smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _non_ascii_partners(project)
    use_smtp(project, utf8_smtp_server)
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code != 2, err
    assert "internal error" not in err
    tos = {r.rcpt_tos[0] for r in utf8_smtp_server.recorder.received}
    assert "léna@fischer.example" in tos
    assert "rafael@xn--csta-qqa.example" in tos  # the domain in its ASCII form
    lena = utf8_smtp_server.recorder.by_recipient("léna@fischer.example")[0].raw
    assert "<léna@fischer.example>".encode() in lena.split(b"\r\nTo: ", 1)[1].split(b"\r\n")[0]
    logged = {r["partner_email"] for r in log_rows(project) if r["run_id"] != "history"}
    assert {"léna@fischer.example", "rafael@cósta.example"} <= logged
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert "uncertain" not in out + err
    assert len(utf8_smtp_server.recorder.by_recipient("léna@fischer.example")) == 1


def test_a_server_without_smtputf8_fails_only_that_email_with_its_reason(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _non_ascii_partners(project)
    use_smtp(project, smtp_server)
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert "internal error" not in err
    assert "léna@fischer.example" in err and "SMTPUTF8" in err
    tos = {r.rcpt_tos[0] for r in smtp_server.recorder.received}
    assert "rafael@xn--csta-qqa.example" in tos and "dana@northwind.example" in tos
    assert health(project)  # Health and the Log were written
    failed = [r for r in log_rows(project) if r["status"] == "failed"]
    assert [r["partner_email"] for r in failed] == ["léna@fischer.example"]
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert "uncertain" not in out + err


@on_both_sheets
def test_a_control_character_in_a_name_costs_only_that_email(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # A Google cell can hold U+000B; a workbook cannot (openpyxl refuses C0), but C1 it can.
    control = "\x0b" if project.backend == "google" else "\x85"
    row = project.set_partner("dana@northwind.example", "name", f"Dana{control}Whitfield")
    use_smtp(project, smtp_server)
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert "internal error" not in err
    assert f"thank to dana@northwind.example not sent (Partners!{row})" in err
    assert f"U+{ord(control):04X}" in err
    assert not smtp_server.recorder.by_recipient("dana@northwind.example")
    assert smtp_server.recorder.by_recipient("marcus@brightpath.example")
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert "uncertain" not in out + err


def test_a_five_thousand_character_name_is_folded_into_lines_the_server_takes(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    project.set_partner("dana@northwind.example", "name", "D" * 5000)
    use_smtp(project, smtp_server)
    code, _out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, err
    dana = smtp_server.recorder.by_recipient("dana@northwind.example")[0]
    assert max(len(line) for line in dana.raw.split(b"\r\n")) <= 998
    to = dana.raw.split(b"\r\nTo: ", 1)[1].split(b" <dana@")[0]
    words = decode_header(to.replace(b"\r\n", b"").decode())  # as mail programs read it
    assert b"".join(w for w, _ in words if isinstance(w, bytes)).startswith(b"D" * 5000)


def test_a_password_beyond_ascii_logs_in_with_utf8_auth_plain(
    project: SheetProject,
    tls_smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.smtp_server import UTF8_PASSWORD

    use_smtp(project, tls_smtp_server)
    monkeypatch.setenv("PARTNERS_SMTP_PASSWORD", UTF8_PASSWORD)
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, err
    assert received(tls_smtp_server) == DUE
    assert UTF8_PASSWORD not in out + err


@pytest.mark.log_write_lost
@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (PermissionError(13, "Permission denied"), "Permission denied"),
        (OSError(28, "No space left on device"), "the disk is full"),
    ],
)
def test_a_toolkit_file_that_cannot_be_written_says_what_was_sent_and_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: OSError,
    said: str,
) -> None:
    from automations.adapters.sheet import xlsx

    project = SheetProject(tmp_path)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise fault

    with monkeypatch.context() as patch:
        patch.setattr(xlsx, "tempfile", SimpleNamespace(mkstemp=refuse))  # the toolkit file only
        code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 2
    assert "internal error" not in err and "Traceback" not in err
    assert f"cannot write {project / 'data' / 'partners.toolkit.xlsx'}: {said}" in err
    assert "10 email(s) went out before this and are recorded in the journal" in err
    assert "written: thank to dana@northwind.example" in err
    code, out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, err
    assert "Nothing is due" in out
    assert len({r["message_id"] for r in log_rows(project) if r["status"] == "written"}) == 10


def test_a_template_that_is_not_utf8_holds_back_only_its_kind(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "templates" / "thank.md").write_bytes(
        "Subject: Merci\n\nDanke schön".encode("cp1252")
    )
    code, _out, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 1
    assert "templates/thank.md: the file is not UTF-8 text" in err
    assert "no thank email sent (2 held back)" in err
    kinds = {p.name.split("-")[0] for p in (project / "outbox").glob("*.eml")}
    assert "thank" not in kinds and {"outcome", "nurture", "escalation"} <= kinds


@pytest.mark.log_write_lost
@on_both_sheets
def test_health_waits_for_a_send_in_progress_and_keeps_its_log_rows(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    from automations.adapters.lock import RunLock

    assert run(project, "health", capsys=capsys)[0] == 0
    project.save_toolkit_tabs()
    code, _, err = run(project, "nurture", "--send", capsys=capsys)
    assert code == 0, err
    sent = [r for r in log_rows(project) if r["status"] == "written"]
    with RunLock(project / "state" / "run.lock"):  # a send still working on this sheet
        code, _, err = run(project, "health", capsys=capsys)
    assert code == 2
    assert "another partners run is working on this sheet" in err
    assert [r for r in log_rows(project) if r["status"] == "written"] == sent
    project.restore_toolkit_tabs()  # the send's Log write was lost
    code, _out, err = run(project, "health", capsys=capsys)
    assert code == 0, err
    assert {r["key"] for r in log_rows(project) if r["status"] == "written"} == {
        r["key"] for r in sent
    }


@on_both_sheets
def test_a_sender_on_a_private_domain_reads_its_own_log_rows_back(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 10, item 14: `me@consult.local` wrote Log rows it then rejected, every run.
    set_keys(project / "config" / "partners.toml", "sender", email="alex@consult.local")
    code, _, err = run(project, "digest", "--send", capsys=capsys)
    assert code == 0, err
    written = len(list((project / "outbox").glob("digest-*.eml")))
    assert written >= 1
    code, _out, err = run(project, "digest", "--send", capsys=capsys)
    assert code == 0, err
    assert "is not an email address" not in err
    assert len(list((project / "outbox").glob("digest-*.eml"))) == written


# --- one-click unsubscribe that identifies the recipient (issue 12) ---------------------------


@pytest.mark.parametrize(
    ("url", "secret", "advertised"),
    [
        ("https://forms.example/unsub?e={email}&t={token}", "s3cret", True),
        ("https://forms.example/unsub", "s3cret", False),  # cannot tell who clicked
        ("https://forms.example/unsub?e={email}&t={token}", "", False),  # cannot sign it
    ],
)
def test_the_one_click_url_is_advertised_only_when_it_names_the_recipient(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    secret: str,
    advertised: bool,
) -> None:
    import hashlib
    import hmac
    from email import message_from_bytes, policy

    project = SheetProject(tmp_path)
    set_keys(project / "config" / "partners.toml", "mail", unsubscribe_url=url)
    monkeypatch.setenv("PARTNERS_UNSUBSCRIBE_SECRET", secret)
    assert run(project, "nurture", "--send", capsys=capsys)[0] == 0
    (eml,) = (project / "outbox").glob("nurture-maya@goldberg.example-*.eml")
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    header = str(msg["List-Unsubscribe"])
    token = hmac.new(b"s3cret", b"maya@goldberg.example", hashlib.sha256).hexdigest()[:32]
    if advertised:
        assert f"<https://forms.example/unsub?e=maya@goldberg.example&t={token}>" in header
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:
        assert "https://" not in header and msg["List-Unsubscribe-Post"] is None
    assert secret not in eml.read_text(errors="replace") or not secret
