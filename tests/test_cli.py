"""The `partners` command as a user runs it: messages, exit codes, files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from automations.cli import main
from automations.core.engine.decisions import HEALTH_COLUMNS
from automations.core.schema import LOG_COLUMNS, SURVEY_ITEMS
from automations.core.vocabulary import ACTION_ORDER, Action

TODAY = "2026-06-15"
# Every action the rules decide; the sample has no broken row, so no `fix row`. A statement
# is due only in a quarter's first weeks (test_statements shows it on the sample then).
DECIDED = set(ACTION_ORDER) - {Action.FIX_ROW.value, Action.STATEMENT.value}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def messy_project(folder: Path) -> Path:
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "partners.toml").write_text('[sheet]\npath = "data/messy.xlsx"\n')
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Partners"
    ws.append(["Name", "Email", "Company", "Status", "First contact", "Notes"])
    ws.append(
        [
            "Dana Whitfield",
            "dana@p.example",
            "Northwind",
            "active",
            "2025-01-05",
            '=HYPERLINK("http://x.example","x")',
        ]
    )
    ws.append(["Lee Park", "lee@p.example"])  # ragged: trailing cells missing
    ws.append(["Dana Again", "DANA@p.example", "Dup Co", "active"])  # duplicate email
    ws.append(["Sam Ode", "sam@p.example", "=1+1", "Active", "3/1/2025"])
    ws.append(
        ["Kim Bo", "kim@p.example", "Kim Co", "active", "2025-02-01", '=IMPORTXML("http://x")']
    )
    ws["C6"].data_type = "s"
    ws["F6"].data_type = "s"
    ref = wb.create_sheet("Referrals")
    ref.append(["Date", "Direction", "Partner Email", "Client", "Status"])
    ref.append(["2026-06-01", "received", "dana@p.example", "Harbor", "new"])
    ref.append(["someday", "received", "lee@p.example", "Nope", "new"])  # unparseable date
    ref.append(["2026-06-02", "received", "ghost@p.example", "Who", "new"])  # unknown partner
    survey = wb.create_sheet("Survey")
    survey.append(["Timestamp", "Partner email", *SURVEY_ITEMS])
    survey.append(
        ["2026-06-01 10:00", "sam@p.example", 5, 12, 5, 5, 5, 5, 5, 5, 5, 5]
    )  # rating of 12
    wb.create_sheet("Touches")  # empty tab
    log = wb.create_sheet("Log")
    log.append(list(LOG_COLUMNS))
    (folder / "data").mkdir()
    wb.save(folder / "data" / "messy.xlsx")
    return folder / "config" / "partners.toml"


def test_a_messy_workbook_gives_one_message_per_problem_and_decides_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = messy_project(tmp_path)
    code, out, err = run(
        capsys, "health", "--format", "json", "--config", str(config), "--today", TODAY
    )
    assert code == 1
    assert err.splitlines() == [
        "partners: Partners!4 email: dana@p.example is already on row 2 (the first row wins) "
        "(row skipped)",
        "partners: Referrals!3 date: 'someday' is not a date (write 2026-11-24 or 11/24/2026: "
        'dates are read month first, set by [sheet] date_order = "MDY" in the config) '
        "(row skipped)",
        "partners: Referrals!4 partner_email: no partner with email ghost@p.example on the "
        "Partners tab (add them there first) (row skipped)",
        "partners: Survey!2 transparency: rating 12 is outside 1–9 (row skipped)",
    ]
    rows = {r["email"]: r for r in json.loads(out)}
    assert sorted(rows) == ["dana@p.example", "kim@p.example", "lee@p.example", "sam@p.example"]
    assert rows["lee@p.example"]["reason"] == "fix Referrals!3 date"
    assert rows["sam@p.example"]["reason"] == "fix Survey!2 transparency"
    assert rows["dana@p.example"]["action"] == "thank"
    health = load_workbook(tmp_path / "data" / "messy.toolkit.xlsx")["Health"]
    companies = {r[1].value: r[2] for r in health.iter_rows(min_row=2)}
    assert (companies["kim@p.example"].value, companies["kim@p.example"].data_type) == (
        "Kim Co",
        "s",
    )
    assert "Traceback" not in err


def test_health_keeps_a_partner_whose_row_has_a_problem_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = messy_project(tmp_path)
    wb = load_workbook(tmp_path / "data" / "messy.xlsx")
    wb["Partners"].append(["Ana Ruiz", "ana@p.example", "Ruiz Co", "active", "31/02/2026"])
    wb.save(tmp_path / "data" / "messy.xlsx")
    problem = (
        "Partners!7 first_contact: '31/02/2026' is not a valid date (write 2026-11-24 or "
        '11/24/2026: dates are read month first, set by [sheet] date_order = "MDY" in the config)'
    )
    args = ("--config", str(config), "--today", TODAY)
    code, out, err = run(capsys, "health", "--format", "json", *args)
    assert code == 1
    assert f"partners: {problem} (the partner is in Health as `fix row`" in err
    rows = {r["email"]: r for r in json.loads(out)}
    assert rows["ana@p.example"] == dict.fromkeys(HEALTH_COLUMNS) | {
        "name": "Ana Ruiz",
        "email": "ana@p.example",
        "company": "Ruiz Co",
        "type": "",
        "status": "active",
        "owner": "you@example.com",  # the sender, as for every partner without an owner
        "tier": "",
        "action": "fix row",
        "reason": problem,
    }
    assert isinstance(rows["dana@p.example"]["received_12m"], int)  # still whole numbers
    _, out, _ = run(capsys, "health", "--format", "csv", "--no-write", *args)
    line = next(x for x in out.splitlines() if x.startswith("Ana Ruiz,"))
    assert line.startswith(
        "Ana Ruiz,ana@p.example,Ruiz Co,,active,you@example.com,,,,,,,,,fix row,"
    )
    _, out, _ = run(capsys, "health", "--no-write", *args)
    assert "fix row   Ana Ruiz" in out and "nan" not in out
    health = load_workbook(tmp_path / "data" / "messy.toolkit.xlsx")["Health"]
    written = {r[1]: r for r in health.iter_rows(min_row=2, values_only=True)}
    assert written["ana@p.example"][14:16] == ("fix row", problem)


def test_a_missing_required_column_exits_2_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = messy_project(tmp_path)
    wb = load_workbook(tmp_path / "data" / "messy.xlsx")
    wb["Referrals"]["B1"] = "Which way"
    wb.save(tmp_path / "data" / "messy.xlsx")
    code, _out, err = run(capsys, "health", "--config", str(config), "--today", TODAY)
    assert code == 2
    assert (
        err
        == "partners: Referrals: required column direction is missing (the header row is row 1)\n"
    )


def test_health_leaves_the_workbook_unchanged_and_is_the_same_when_run_twice(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    book = project / "data" / "partners.xlsx"
    before = hashlib.sha256(book.read_bytes()).hexdigest()
    today = dt.date.today().isoformat()
    run(capsys, "health", "--config", config, "--today", today)
    first = [
        list(r)
        for r in load_workbook(project / "data" / "partners.toolkit.xlsx")["Health"].iter_rows(
            values_only=True
        )
    ]
    run(capsys, "health", "--config", config, "--today", today)
    second = [
        list(r)
        for r in load_workbook(project / "data" / "partners.toolkit.xlsx")["Health"].iter_rows(
            values_only=True
        )
    ]
    assert hashlib.sha256(book.read_bytes()).hexdigest() == before
    assert first == second
    assert tuple(first[0]) == HEALTH_COLUMNS
    emails = [r[1] for r in first[1:]]
    assert len(emails) == len(set(emails)) == 28
    ranks = [ACTION_ORDER.index(r[14]) for r in first[1:]]
    assert ranks == sorted(ranks)


def test_the_sample_shows_every_action_on_the_day_it_is_made(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "health",
        "--no-write",
        "--format",
        "json",
        "--config",
        str(project / "config" / "partners.toml"),
        "--today",
        dt.date.today().isoformat(),
    )
    assert code == 0
    actions = {r["action"] for r in json.loads(out)} - {Action.STATEMENT.value}
    assert actions == DECIDED
    assert not (project / "data" / "partners.toolkit.xlsx").exists()


@pytest.mark.parametrize("day", ["2026-01-01", "2026-03-31", "2026-07-02", "2026-12-31"])
def test_the_sample_shows_every_action_whatever_the_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], day: str
) -> None:
    run(capsys, "init", str(tmp_path), "--today", day)
    _code, out, _ = run(
        capsys,
        "health",
        "--no-write",
        "--format",
        "json",
        "--config",
        str(tmp_path / "config" / "partners.toml"),
        "--today",
        day,
    )
    rows = json.loads(out)
    if day.endswith(("01-01", "07-02")):
        # Spreading (RULES.md): on a quarter's first days no partner's survey day has come
        # yet; Health says when each one falls due instead.
        assert {r["action"] for r in rows} - {"statement"} == DECIDED - {"survey"}
        assert any(r["reason"].startswith("next survey due") for r in rows)
        return
    assert {r["action"] for r in rows} - {"statement"} == DECIDED


def test_init_never_overwrites(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = project / "config" / "partners.toml"
    config.write_text("# mine\n")
    code, out, _ = run(capsys, "init", str(project))
    assert code == 0
    assert config.read_text() == "# mine\n"
    assert f"kept    {config} (already there)" in out


def test_csv_has_the_health_columns(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _code, out, _ = run(
        capsys,
        "health",
        "--no-write",
        "--format",
        "csv",
        "--config",
        str(project / "config" / "partners.toml"),
    )
    assert out.splitlines()[0] == ",".join(HEALTH_COLUMNS)
    assert len(out.splitlines()) == 29


def test_check_reports_counts_and_exit_code(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", "--config", str(project / "config" / "partners.toml"))
    assert code == 0
    assert out.startswith("28 partners, ")
    assert err == ""


def test_check_lists_the_partners_greeted_hi_there_with_the_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = project / "data" / "partners.xlsx"
    wb = load_workbook(book)
    sheet = wb["Partners"]
    column = [c.value for c in sheet[1]].index("Name") + 1
    sheet.cell(row=2, column=column, value="Studio Nord")
    sheet.cell(row=3, column=column, value="山田 太郎")
    wb.save(book)
    code, _out, err = run(capsys, "check", "--config", str(project / "config" / "partners.toml"))
    assert code == 0
    lines = err.splitlines()
    assert [line.split(" name ")[0] for line in lines] == [
        "partners: Partners!2",
        "partners: Partners!3",
    ]
    assert "'Studio Nord'" in lines[0] and "'山田 太郎'" in lines[1]
    assert all('"Hi there"' in line and "add a first_name column" in line for line in lines)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[rules]\nthank_within_dayz = 3\n", "config key 'rules.thank_within_dayz' is not known"),
        (
            '[rules]\nthank_within_days = "30"\n',
            "config key 'rules.thank_within_days' must be a whole number, not '30'",
        ),
        (
            '[mail]\nbackend = "pigeon"\n',
            "config key 'mail.backend' is 'pigeon'; expected one of 'outbox', 'smtp'",
        ),
        (
            'timezone = "Mars/Olympus"\n',
            "config key 'timezone' names an unknown zone 'Mars/Olympus'",
        ),
        ("[sheet\n", "is not valid TOML"),
    ],
)
def test_config_mistakes_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, message: str
) -> None:
    (tmp_path / "bad.toml").write_text(toml)
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert message in err


def test_config_comes_from_partners_config_when_no_flag(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERS_CONFIG", str(project / "config" / "partners.toml"))
    monkeypatch.chdir(project.parent)
    code, out, _ = run(capsys, "check")
    assert (code, out[:11]) == (0, "28 partners")


def test_a_bad_today_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "health",
        "--today",
        "tomorrow",
        "--config",
        str(project / "config" / "partners.toml"),
    )
    assert (code, err) == (2, "partners: --today 'tomorrow' is not a date (write YYYY-MM-DD)\n")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("command", ["health", "nurture", "digest"])
def test_a_today_no_run_can_decide_for_is_a_usage_error_naming_the_days_it_can(
    project: Path, capsys: pytest.CaptureFixture[str], day: str, command: str
) -> None:
    # Such a day overflowed the date arithmetic: "internal error".
    config = str(project / "config" / "partners.toml")
    code, _, err = run(capsys, command, "--today", day, "--config", config)
    assert (code, err) == (
        2,
        f"partners: --today '{day}' is outside the days a run can decide for "
        "(1900-01-01 to 2199-12-31)\n",
    )


def test_python_dash_m_runs_without_traceback_for_a_missing_config(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "automations", "health"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == "partners: config file config/partners.toml not found (run `partners init` to create one)\n"
    )


# --- email commands ----------------------------------------------------------------------------


def test_preview_prints_the_due_email_exactly_as_it_would_go(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, out, _ = run(
        capsys, "preview", "outcome", "--partner", "Zoe@Nunez.example", "--config", config
    )
    assert code == 0
    assert "To: =?utf-8?" not in out  # shown decoded, as a person reads it
    assert "To: Zoë Ñúñez <zoe@nunez.example>" in out
    assert "Subject: Good news about Vela Foods" in out
    assert "Hi Zoë," in out
    assert not (project / "outbox").exists()
    code, out, _ = run(
        capsys, "preview", "thank", "--partner", "zoe@nunez.example", "--html", "--config", config
    )
    assert code == 0 and "<p>Hi Zoë,</p>" in out


def test_preview_names_an_unknown_partner_or_template(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, _, err = run(
        capsys, "preview", "thank", "--partner", "nobody@x.example", "--config", config
    )
    assert (code, err.strip()) == (
        1,
        "partners: no partner with email 'nobody@x.example' in the Partners tab",
    )
    code, _, err = run(
        capsys, "preview", "thankz", "--partner", "zoe@nunez.example", "--config", config
    )
    assert code == 1 and "templates/thankz.md: no such template" in err


def test_nurture_refuses_unknown_kinds_and_negative_limits(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, _, err = run(capsys, "nurture", "--only", "thanks", "--config", config)
    assert code == 2 and "invalid choice: 'thanks'" in err
    code, _, err = run(capsys, "nurture", "--limit", "-1", "--config", config)
    assert code == 2 and "--limit must be 0 or more" in err
    code, _, err = run(capsys, "nurture", "--send", "--baseline", "--config", config)
    assert code == 2 and "not allowed with argument" in err


def test_resolve_refuses_a_key_that_is_not_uncertain(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, _, err = run(
        capsys, "resolve", "thank:zoe@nunez.example:2026-01-01", "--sent", "--config", config
    )
    assert code == 2
    assert "is not uncertain (its state: not in the Log or the journal)" in err


def test_today_decides_but_the_log_records_the_real_time(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    later = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    code, _, _ = run(
        capsys, "nurture", "--send", "--only", "nurture", "--today", later, "--config", config
    )
    assert code in (0, 1)
    book = load_workbook(project / "data" / "partners.toolkit.xlsx", read_only=True)
    rows = [r for r in book["Log"].iter_rows(values_only=True)][1:]
    ours = [r for r in rows if r[1] != "history"]
    assert ours and all(str(r[0]).startswith(dt.date.today().isoformat()) for r in ours)


def test_check_says_the_mail_backend_it_would_use(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--config", str(project / "config" / "partners.toml"))
    assert code == 0
    assert "mail: outbox folder outbox/ (nothing leaves this machine)" in out


def test_preview_shows_an_owners_digest_and_self_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    for template, subject in (
        ("digest", "Subject: Your partners, week "),
        ("survey_owner", "Subject: Your quarterly partnership self-check"),
    ):
        code, out, _ = run(
            capsys, "preview", template, "--partner", "zoe@nunez.example", "--config", config
        )
        assert code == 0 and subject in out
        assert "To: Alex Rivera <alex@rivera-consulting.example>" in out


def test_replies_and_survey_say_what_they_need(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "partners.toml"
    code, _, err = run(capsys, "replies", "--config", str(config))
    assert (code, err.strip()) == (
        2,
        "partners: `partners replies` needs an [imap] section with a host",
    )
    config.write_text(
        config.read_text().replace(
            'form_url = "https://docs.google.com/forms/d/e/EXAMPLE-FORM-ID/viewform"',
            'form_url = ""',
        )
    )
    code, _, err = run(capsys, "survey", "--config", str(config))
    assert code == 2 and "set [survey] form_url first" in err


@pytest.mark.parametrize("section", ["mail", "imap"])
def test_a_timeout_of_zero_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str
) -> None:
    (tmp_path / "bad.toml").write_text(f"[{section}]\ntimeout = 0\n")
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert f"config key '{section}.timeout' must be above 0, not 0\n" in err


def test_a_toolkit_tab_named_like_a_user_tab_is_a_config_error_naming_both_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.toml").write_text('[sheet.tabs]\nhealth = "referrals"\n')
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert "'sheet.tabs.referrals' and 'sheet.tabs.health' both name the tab" in err


@pytest.mark.parametrize(
    ("title", "wrong"),
    [
        ("H" * 32, "is 32 characters; a workbook's tab names hold at most 31"),
        ("Health?", "has '?', which a workbook's tab names cannot hold"),
    ],
)
def test_a_tab_name_a_workbook_cannot_hold_is_a_config_error_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], title: str, wrong: str
) -> None:
    # It ended in "cannot write data/partners.toolkit.xlsx ... (is the folder writable, is
    # the disk full?)" after the run had decided everything.
    (tmp_path / "bad.toml").write_text(f'[sheet.tabs]\nhealth = "{title}"\n')
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert f"config key 'sheet.tabs.health' {wrong} (name the tab" in err


def test_check_names_a_schedule_job_that_schedule_and_cron_would_refuse(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `check` said all was well, and only `partners schedule` (or `cron`) stopped on it.
    config = project / "config" / "partners.toml"
    text = config.read_text().replace(
        'jobs = { nurture = "09:00" }', 'jobs = { nurture = "25:00" }'
    )
    config.write_text(text)
    code, _, err = run(capsys, "check", "--config", str(config))
    assert code == 2
    assert '[schedule] jobs: nurture = \'25:00\'; write "09:00" or "monday 08:00"' in err


@pytest.mark.parametrize(
    ("section", "key"), [("sheet", "path"), ("mail", "outbox_dir"), ("sheet.tabs", "health")]
)
def test_a_config_value_holding_a_nul_character_is_a_config_error_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, key: str
) -> None:
    # A path with "\u0000" in it stopped the run with "internal error" (embedded null byte).
    (tmp_path / "bad.toml").write_text(f'[{section}]\n{key} = "data\\u0000.xlsx"\n')
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert f"config key '{section}.{key}' holds a NUL character (\\x00); retype the value" in err


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://x.example/unsubscribe", "it has no {email} where the recipient's address goes"),
        (
            "https://x.example/u?e={email}&t={token}",
            "it has {token} but PARTNERS_UNSUBSCRIBE_SECRET is not set",
        ),
    ],
)
def test_check_says_when_the_unsubscribe_url_would_go_in_no_email(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    why: str,
) -> None:
    # A run leaves such an address out without a word, and `check` said all was well.
    monkeypatch.delenv("PARTNERS_UNSUBSCRIBE_SECRET", raising=False)
    config = project / "config" / "partners.toml"
    text = config.read_text().replace('unsubscribe_url = ""', f'unsubscribe_url = "{url}"')
    config.write_text(text)
    code, _, err = run(capsys, "check", "--config", str(config))
    assert code == 1
    assert f"partners: [mail] unsubscribe_url is left out of every email: {why}" in err


def test_a_sender_address_that_is_no_address_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.toml").write_text('[sender]\nemail = "alex at home"\n')
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert "config key 'sender.email': 'alex at home' is not an email address" in err


def test_an_empty_partners_tab_beside_a_log_with_history_is_no_partners_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "partners.toml"
    config.write_text('[sheet]\npath = "data/p.xlsx"\n')
    (tmp_path / "data").mkdir()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Partners"
    ws.append(["Name", "Email"])
    wb.create_sheet("Referrals").append(["Date", "Direction", "Partner Email"])
    log = wb.create_sheet("Log")
    log.append(list(LOG_COLUMNS))
    log.append(
        [
            "2026-05-01T09:00:00+00:00",
            "r1",
            "thank",
            "gone@p.example",
            "thank:gone@p.example:x",
            "thank",
            "Thanks",
            "<a@b>",
            "sent",
            "",
        ]
    )
    wb.save(tmp_path / "data" / "p.xlsx")
    for command in (["check"], ["health"], ["nurture", "--send"]):
        code, _out, err = run(capsys, *command, "--config", str(config), "--today", TODAY)
        assert "internal error" not in err
        assert code == 0, (command, err)
    assert "0 partners" in run(capsys, "check", "--config", str(config))[1]


# --- make demo only ever demos (issue 13) ------------------------------------------------------


def test_make_demo_runs_the_demo_mode_of_the_main_job() -> None:
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "partners nurture --send --demo" in demo


def test_the_demo_on_an_smtp_config_sends_nothing_and_says_why(
    project: Path, smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import use_smtp

    config = use_smtp(project, smtp_server)
    code, out, _ = run(capsys, "nurture", "--send", "--demo", "--config", str(config))
    assert code == 0
    assert smtp_server.recorder.received == []
    assert "make demo only ever demos" in out and "sends by SMTP through 127.0.0.1" in out
    assert "The real job is `partners nurture --send`" in out
    assert not (project / "outbox").exists()


def test_the_demo_hint_names_what_was_written_or_that_nothing_was_due(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, out, _ = run(capsys, "nurture", "--send", "--demo", "--config", config)
    assert code == 0
    assert "Open any of the 10 .eml file(s) just written to outbox/" in out
    code, out, _ = run(capsys, "nurture", "--send", "--demo", "--config", config)
    assert "Nothing was due, so no email was written" in out
    assert "Open any" not in out


# --- what the terminal shows (issue 13) --------------------------------------------------------


def test_a_long_reason_is_printed_whole_when_the_output_is_a_pipe(project: Path) -> None:
    from openpyxl import load_workbook

    path = project / "data" / "partners.xlsx"
    book = load_workbook(path)
    sheet = book["Referrals"]
    for row in sheet.iter_rows(min_row=2):
        if row[3].value == "Lumen Clinics":
            row[3].value = "Lumen Clinics " + "and Partners " * 15 + "of the Greater Bay Area"
    book.save(path)
    run_ = subprocess.run(
        [sys.executable, "-m", "automations", "nurture"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
    )
    lines = run_.stdout.splitlines()
    at = lines[0].index("why")  # the reason column, read down the wrapped lines
    flat = " ".join(" ".join(line[at:] for line in lines).split())
    client = "Lumen Clinics " + "and Partners " * 15 + "of the Greater Bay Area"
    reason = f"referral from Marcus Oyelaran (DATE, {client}) not thanked yet"
    assert len(reason) > 200
    assert f"{client}) not thanked yet" in flat  # the whole reason, wrapped, not cut
    assert "…" not in run_.stdout


def test_nurture_prints_one_json_object_per_email(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, out, _ = run(capsys, "nurture", "--format", "json", "--config", config)
    assert code == 0
    emails = json.loads(out)
    assert len(emails) == 10
    assert {tuple(sorted(e)) for e in emails} == {
        ("detail", "keys", "kind", "reason", "status", "subject", "to")
    }
    thank = next(e for e in emails if e["to"] == "dana@northwind.example")
    assert (thank["kind"], thank["status"]) == ("thank", "due")
    assert (
        thank["reason"].startswith("referral from Dana Whitfield")
        and "escalat" not in thank["reason"]
    )
    code, out, _ = run(capsys, "nurture", "--send", "--format", "csv", "--config", config)
    assert out.splitlines()[0] == "kind,to,subject,reason,keys,status,detail"
    assert sum(1 for line in out.splitlines()[1:] if ",written," in line) == 10


def test_sending_shows_a_progress_count_unless_quiet(project: Path) -> None:
    def send(*flags: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "automations", "nurture", "--send", *flags],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin"},
        ).stderr

    assert "10/10" in send()
    (project / "data" / "partners.toolkit.xlsx").unlink()
    for path in (project / "outbox").glob("*.eml"):
        path.unlink()
    import shutil

    shutil.rmtree(project / "state")
    assert "10/10" not in send("-q")


def test_preview_says_whether_the_email_is_due_or_a_labelled_sample(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, out, _ = run(
        capsys, "preview", "outcome", "--partner", "zoe@nunez.example", "--config", config
    )
    assert code == 0
    assert out.startswith("Due now: this outcome email goes on the next `partners nurture --send`.")
    code, out, _ = run(
        capsys, "preview", "outcome", "--partner", "dana@northwind.example", "--config", config
    )
    assert code == 0
    assert out.startswith("Not due now: a sample made up for a look, from the Partners row 2")


def test_preview_for_a_partner_without_the_data_says_so_and_a_wrong_name_lists_templates(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(project / "config" / "partners.toml")
    code, out, err = run(
        capsys, "preview", "outcome", "--partner", "lena@fischer.example", "--config", config
    )
    assert code == 1 and out == ""
    assert "Lena Fischer has sent you no referral yet, so there is no outcome to show" in err
    assert "template error" not in err and "unknown field" not in err
    code, _, err = run(
        capsys, "preview", "thanks", "--partner", "lena@fischer.example", "--config", config
    )
    assert code == 1
    assert (
        "no such template; the templates are: alert, digest, escalation, follow_up, nurture, "
        in err
    )


def test_init_says_where_to_go_next_and_is_silent_with_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found walking the README: `init mine` said `partners health`, which, run from here,
    # used another project's config; and -q still printed every file.
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "mine")
    assert code == 0 and "next: `cd mine && partners health`" in out
    code, out, _ = run(capsys, "init", "quiet", "-q")
    assert code == 0 and out == ""
    assert (tmp_path / "quiet" / "config" / "partners.toml").is_file()


def test_a_list_a_command_changes_in_one_main_call_is_fresh_in_the_next(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parser is built once per process (issue 24); argparse hands a list default
    # (`review --send`, `--skip`, `--later`) to every parse as the same object, so a command
    # that added to it would have passed its keys on to the next main() of the process.
    from automations import commands

    seen: list[tuple[list[str], list[str], list[list[str]]]] = []

    def review(args: Any, _settings: Any) -> int:
        seen.append((list(args.send), list(args.skip), list(args.later)))
        args.send.append("from-the-first-call")
        args.skip.append("from-the-first-call")
        args.later.append(["from-the-first-call", "2026-07-01"])
        return 0

    monkeypatch.setitem(commands.COMMANDS, "review", review)
    monkeypatch.chdir(project)
    assert run(capsys, "review")[0] == 0
    assert run(capsys, "review")[0] == 0
    assert seen == [([], [], []), ([], [], [])]


@pytest.mark.parametrize("template", ["alert", "review", "review_answer"])
def test_preview_of_an_email_to_you_about_runs_says_what_it_is_not_a_template_error(
    project: Path, capsys: pytest.CaptureFixture[str], template: str
) -> None:
    # These emails are about runs, not about a partner: a made-up partner look has none of
    # their fields, so the untouched template read as broken ("unknown field 'failures'").
    config = str(project / "config" / "partners.toml")
    code, out, err = run(
        capsys, "preview", template, "--partner", "zoe@nunez.example", "--config", config
    )
    assert code == 1 and out == ""
    assert "template error" not in err and "unknown field" not in err
    assert f"templates/{template}.md is the email to you" in err
    assert "nothing to preview for a partner" in err
