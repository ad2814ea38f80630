"""The public Python API (docs/api.md): load, decide and plan on the demo project, as a user
of it would notice them; and the manual's example runs as written."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import automations
from automations.errors import ConfigError, UsageError
from automations.jobs.init import run_init

ROOT = Path(__file__).parent.parent


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo as `partners init` makes it (review on, as shipped)."""
    run_init(tmp_path, dt.date.today())
    return tmp_path


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_load_reads_the_demo_sheet_as_a_run_does(demo: Path) -> None:
    project = automations.load(demo / "config" / "partners.toml", today=dt.date.today())
    assert len(project.tables.partners) == 28
    assert project.problems == []
    assert project.today == dt.date.today()


def test_the_demo_decisions_name_real_partners_and_actions(demo: Path) -> None:
    project = automations.load(demo / "config" / "partners.toml")
    decisions = automations.decide(project)
    partners = project.tables.partners
    health = decisions.health
    assert set(health["email"]) <= set(partners["email"])
    assert "Dana Whitfield" in set(health["name"])
    actions = set(health["action"])
    assert {"escalate", "thank", "outcome", "follow_up", "nurture", "blocked"} <= actions
    assert all(reason for reason in health.loc[health["action"] != "none", "reason"])
    assert decisions.due and {d.partner_email for d in decisions.due} <= set(partners["email"])


def test_plan_gives_the_emails_with_recipients_and_subjects_and_sends_nothing(
    demo: Path,
) -> None:
    project = automations.load(demo / "config" / "partners.toml")
    before = _files(demo)
    planned = automations.plan(project)
    assert planned.to_send
    due_kinds = {d.kind for d in automations.decide(project).due}
    for email in planned.to_send:
        assert re.fullmatch(r"[^@\s]+@[^@\s]+", email.recipient), email.recipient
        assert email.subject.strip()
        assert email.draft.kind in due_kinds
    assert {"thank", "escalation"} <= {e.draft.kind for e in planned.to_send}
    assert planned.report is None and not planned.wrote  # a dry run: no delivery, no write
    assert _files(demo) == before  # no outbox, no journal, no toolkit workbook


def test_plan_takes_the_other_commands_and_a_campaign_file(demo: Path) -> None:
    project = automations.load(demo / "config" / "partners.toml")
    digest = automations.plan(project, "digest")
    assert [e.draft.kind for e in digest.to_send] == ["digest"]
    campaign = demo / "config" / "campaigns" / "prospects-intro.toml"
    intro = automations.plan(project, str(campaign))
    assert intro.to_send and all(e.subject for e in intro.to_send)


def test_plan_of_an_unknown_command_names_the_choices(demo: Path) -> None:
    project = automations.load(demo / "config" / "partners.toml")
    with pytest.raises(UsageError, match="nurture, survey, digest, statement"):
        automations.plan(project, "nurtur")


def test_load_without_a_config_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="partners init"):
        automations.load(tmp_path / "config" / "partners.toml")


def test_the_manuals_example_runs_on_the_demo(demo: Path) -> None:
    manual = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", manual, re.S)
    assert code is not None
    (demo / "example.py").write_text(code.group(1), encoding="utf-8")
    ran = subprocess.run(
        [sys.executable, "example.py"], cwd=demo, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "28 partners, 0 problem(s)"
    assert any(line.startswith("Dana Whitfield: escalate (") for line in lines)
    assert any(line.startswith("thank to dana@northwind.example: ") for line in lines)
    assert re.fullmatch(
        r"\d+ of them would wait for your approval first \(\[mail\] review\)", lines[-1]
    )


def test_load_takes_today_written_as_on_the_command_line_and_names_a_wrong_one(
    demo: Path,
) -> None:
    config = demo / "config" / "partners.toml"
    assert automations.load(config, today="2026-12-01").today == dt.date(2026, 12, 1)
    with pytest.raises(UsageError, match=r"today='1 December' is not a day: give a datetime"):
        automations.load(config, today="1 December")
    with pytest.raises(UsageError, match=r"today=9999-12-31 is outside the days a run can"):
        automations.load(config, today=dt.date(9999, 12, 31))
