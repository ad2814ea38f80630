"""Send windows and copies (EMAIL.md, "Copies, windows and alerts"): partner mail waits
outside `[mail] send_days`, `send_hours` and `holidays`; owners' mail never does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.cli import main
from automations.core.window import SendWindow, parse_window
from automations.demo.workbook import SENDER
from tests.conftest import set_keys, use_smtp
from tests.projects import SheetProject, email_rows
from tests.smtp_server import SmtpServer

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def run(project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out + err


def next_weekday(day: int) -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=(day - today.weekday()) % 7)


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    return SheetProject(tmp_path)


def set_list(project: SheetProject, key: str, values: list[str]) -> None:
    set_keys(project / "config" / "partners.toml", "mail", **{key: values})


def test_a_saturday_run_sends_the_escalation_and_no_partner_email_and_says_when(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    set_list(project, "send_days", WEEKDAYS)
    saturday = next_weekday(5)
    code, out = run(project, capsys, "nurture", "--send", "--today", saturday.isoformat())
    assert code == 0, out
    assert [r.rcpt_tos for r in smtp_server.recorder.received] == [[SENDER]]  # the escalation
    monday = saturday + dt.timedelta(days=2)
    assert "partner email(s) wait: Saturday" in out
    assert f"the first run from Monday {monday.day} {monday:%B} at 00:00" in out
    assert not [r for r in email_rows(project.log_rows()) if r["action"] != "escalation"]
    code, out = run(project, capsys, "nurture", "--send", "--today", monday.isoformat())
    assert len(smtp_server.recorder.received) > 5  # Monday: the partner emails go


def test_on_a_holiday_partner_mail_waits(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    today = dt.date.today()
    set_list(project, "holidays", [today.isoformat()])
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 0
    names = sorted(p.name.split("-")[0] for p in (project / "outbox").glob("*.eml"))
    assert names == ["escalation"]
    assert "is outside the send window" in out


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("send_hours", "22:00-06:00", "'22:00-06:00' crosses midnight, which a send window cannot"),
        ("send_hours", "17:00-17:00", "'17:00-17:00' is empty"),
        ("send_hours", "nine to five", "'nine to five' is not a span of hours"),
        ("holidays", ["2026-12-25", "2026-13-01"], "'2026-13-01' is not a date (write 2026-12-25)"),
        ("send_days", ["mon", "someday"], "'someday' is not a day"),
    ],
)
def test_a_window_that_is_not_one_is_a_config_error_naming_the_key_and_the_value(
    project: SheetProject, capsys: pytest.CaptureFixture[str], key: str, value: object, said: str
) -> None:
    set_keys(project / "config" / "partners.toml", "mail", **{key: value})
    code, out = run(project, capsys, "check")
    assert code == 2
    assert f"partners: config key 'mail.{key}': {said}" in out
    assert "Traceback" not in out


def test_send_hours_read_a_single_digit_hour_an_en_dash_and_24_00() -> None:
    w = parse_window([], "9:00–24:00", [])
    assert (w.start, w.end) == (dt.time(9), dt.time(23, 59, 59, 999999))
    assert w.open_at(dt.datetime(2026, 6, 15, 23, 59)) and not w.open_at(
        dt.datetime(2026, 6, 15, 8)
    )
    assert parse_window([], "00:00-24:00", []).always


@given(
    st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 22),
)
def test_the_window_opens_at_the_first_allowed_moment(
    moment: dt.datetime, days: set[int], start: int
) -> None:
    window = SendWindow(frozenset(days), dt.time(start), dt.time(start + 1))
    opens = window.next_open(moment)
    assert opens is not None and opens >= moment and window.open_at(opens)
    step = moment
    while step < opens - dt.timedelta(minutes=30):  # nothing open before it
        assert not window.open_at(step)
        step += dt.timedelta(minutes=30)


def test_window_words() -> None:
    w = parse_window(["Mon", "tuesday"], "09:00-17:00", ["2026-12-25"])
    assert w.days == frozenset({0, 1}) and w.start == dt.time(9) and w.end == dt.time(17)
    with pytest.raises(ValueError, match="'someday' is not a day"):
        parse_window(["someday"], "", [])


# --- copies --------------------------------------------------------------------------------------

DANA = "dana@northwind.example"  # her thank-you is due today
OWNER = "sam@rivera-consulting.example"
CRM = "log@crm.example"


def test_cc_owner_is_a_header_and_a_recipient_and_bcc_only_a_recipient(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server)
    set_keys(project / "config" / "partners.toml", "mail", cc_owner=True)
    set_list(project, "bcc", [CRM])
    project.set_partner(DANA, "owner", OWNER)
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 0, out
    [thank] = [r for r in smtp_server.recorder.received if r.rcpt_tos[0] == DANA]
    assert thank.rcpt_tos == [DANA, OWNER, CRM]
    assert thank.message["Cc"] == OWNER and "Bcc" not in thank.message
    assert CRM.encode() not in thank.raw  # a Bcc leaves no trace in the message
    others = [
        r for r in smtp_server.recorder.received if r.rcpt_tos[0] not in (DANA, OWNER, SENDER)
    ]
    assert others and all(r.rcpt_tos[1:] == [CRM] and "Cc" not in r.message for r in others)
    owners = [r for r in smtp_server.recorder.received if r.rcpt_tos[0] in (SENDER, OWNER)]
    assert owners and all(len(r.rcpt_tos) == 1 for r in owners)  # owners' mail: no copies
    [logged] = [r for r in email_rows(project.log_rows()) if r["key"].startswith(f"thank:{DANA}")]
    assert logged["detail"].endswith(f"copies to {OWNER}, {CRM}")


WIDE_CRM = "jörg@crm.example"  # characters beyond ASCII before the @: needs SMTPUTF8


def test_a_bcc_beyond_ascii_is_left_out_on_a_server_without_smtputf8_and_check_says_so(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 22, item 5: it passed `partners check`, then stopped the run with `internal
    # error` and a false `uncertain` on the first partner email.
    use_smtp(project, smtp_server)
    set_list(project, "bcc", [WIDE_CRM])
    code, out = run(project, capsys, "check")
    assert code == 1
    assert f"partners: [mail] bcc '{WIDE_CRM}' will be left out of every email" in out
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 0, out
    assert "internal error" not in out and "uncertain" not in out
    partners = [r for r in smtp_server.recorder.received if r.rcpt_tos[0] != SENDER]
    assert len(partners) > 5 and all(len(r.rcpt_tos) == 1 for r in partners)
    [logged] = [r for r in email_rows(project.log_rows()) if r["key"].startswith(f"thank:{DANA}")]
    assert logged["status"] == "sent"
    assert f"{WIDE_CRM} left out (characters beyond ASCII before the @" in logged["detail"]


def test_copies_beyond_ascii_go_with_smtputf8_when_the_server_offers_it(
    project: SheetProject, utf8_smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, utf8_smtp_server)
    set_keys(project / "config" / "partners.toml", "mail", cc_owner=True)
    set_list(project, "bcc", [WIDE_CRM])
    project.set_partner(DANA, "owner", "zoë@rivera-consulting.example")
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 0, out
    [thank] = [r for r in utf8_smtp_server.recorder.received if r.rcpt_tos[0] == DANA]
    assert thank.rcpt_tos == [DANA, "zoë@rivera-consulting.example", WIDE_CRM]
    assert thank.message["Cc"] == "zoë@rivera-consulting.example"


# (A partner's address in [mail] bcc now stops the sending before anything goes:
# test_a_partners_own_address_in_bcc_stops_the_sending_and_check_says_so.)
@pytest.mark.parametrize("copy", ["cc_owner"])
def test_a_copy_to_the_partners_own_address_in_punycode_never_reaches_them_twice(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str], copy: str
) -> None:
    anna, anna_ascii = "anna@bücher.example", "anna@xn--bcher-kva.example"
    use_smtp(project, smtp_server)
    project.rename_partner(DANA, anna)
    if copy == "cc_owner":
        set_keys(project / "config" / "partners.toml", "mail", cc_owner=True)
        project.set_partner(anna, "owner", anna_ascii.upper())
    else:
        set_list(project, "bcc", [anna_ascii.upper()])
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 0, out
    [thank] = [
        r
        for r in smtp_server.recorder.received
        if r.message["Subject"].startswith("Thank") and r.rcpt_tos[0] == anna_ascii
    ]
    assert thank.rcpt_tos == [anna_ascii]  # one copy in her inbox, not two
    assert "Cc" not in thank.message
    [logged] = [r for r in email_rows(project.log_rows()) if r["key"].startswith(f"thank:{anna}")]
    assert "copies" not in logged["detail"]


def test_max_per_day_counts_recipients_copies_included_as_the_provider_does(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    use_smtp(project, smtp_server, max_per_day=6)
    set_list(project, "bcc", [CRM])
    for _ in range(2):  # the second run, within 24 hours, finds the day's room used
        code, out = run(project, capsys, "nurture", "--send")
        assert code == 0, out
        assert "wait for the next run (max_per_day" in out
    received = smtp_server.recorder.received
    # The escalation to the owner (1 recipient), then two thank-yous each with the Bcc (2):
    # a third partner email would make 7 recipients in 24 hours.
    assert sum(len(r.rcpt_tos) for r in received) == 5
    assert [len(r.rcpt_tos) for r in received] == [1, 2, 2]


@pytest.mark.parametrize(
    ("sender", "kind"), [(OWNER, "ignored"), (CRM, "ignored"), (DANA, "unsubscribe")]
)
def test_an_unsubscribe_from_a_copys_address_does_not_block_the_partner(
    sender: str, kind: str
) -> None:
    from automations.core.replies import Known, classify
    from tests.imap_messages import message

    ours = "<pa.1@rivera-consulting.example>"
    known = Known(
        partners=frozenset({DANA}),
        sent_ids={ours: DANA},
        unsubscribe_address=SENDER,
        copies=frozenset({OWNER, CRM}),
    )
    raw = message(sender, SENDER, "unsubscribe", in_reply_to=ours, body="unsubscribe")
    assert classify(raw, known).kind == kind


def test_cron_says_when_a_sending_job_is_scheduled_outside_the_send_hours(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "partners.toml"
    set_keys(config, "mail", send_hours="09:00-17:00")
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            'jobs = { nurture = "09:00" }', 'jobs = { nurture = "07:00", digest = "monday 08:00" }'
        ),
        encoding="utf-8",
    )
    code, out = run(project, capsys, "cron")
    assert code == 0
    assert "# nurture at 07:00 runs outside [mail] send_days/send_hours" in out
    assert "# digest" not in out


def test_a_partners_own_address_in_bcc_stops_the_sending_and_check_says_so(
    project: SheetProject, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by the hostile pass: a partner in [mail] bcc got a copy of every other
    # partner's email, do_not_email or not, and nothing said so.
    use_smtp(project, smtp_server)
    set_list(project, "bcc", ["Hannah@Cole.example"])
    code, out = run(project, capsys, "check")
    assert code == 1
    assert "partners: [mail] bcc 'Hannah@Cole.example' is a partner's address" in out
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 2
    assert "is a partner's address" in out and "nothing was sent" in out
    partners = [r for r in smtp_server.recorder.received if r.rcpt_tos[0] != SENDER]
    assert partners == []
    assert not [r for r in smtp_server.recorder.received if "hannah@cole.example" in r.rcpt_tos]
