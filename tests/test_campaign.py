"""`partners campaign`: one-off outreach, each partner at most once per campaign."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from automations.adapters.sheet.xlsx import write_workbook
from automations.cli import main
from automations.core.audience import parse_campaign
from automations.errors import ConfigError
from automations.jobs.init import run_init
from tests import projects

HEADER = ["name", "email", "company", "type", "status", "do_not_email"]


def prospects(n: int) -> list[list[object]]:
    return [
        [f"Pro {i}", f"pro{i}@agency{i}.example", f"Agency {i}", "agency", "prospect", False]
        for i in range(n)
    ]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    run_init(tmp_path, dt.date.today())
    projects.review_off(tmp_path)
    rows = [
        *prospects(30),
        ["Dee Clined", "dee@no.example", "No Co", "agency", "declined", False],
        ["Don Twrite", "don@dne.example", "Dne Co", "agency", "prospect", True],
        ["Acti Ve", "active@partner.example", "Act Co", "agency", "active", False],
    ]
    write_workbook(tmp_path / "data" / "partners.xlsx", {"Partners": [HEADER, *rows]})
    (tmp_path / "config" / "campaigns" / "test.toml").write_text(
        'name = "agency-test"\ntemplate = "outreach"\n'
        'subject = "Hello {{ partner.company }}"\n[audience]\ntype = "agency"\n'
        'status = ["prospect", "declined"]\n'
    )
    return tmp_path


def run(folder: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--config", str(folder / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out, err


def written(folder: Path) -> list[str]:
    names = (
        [p.name for p in (folder / "outbox").glob("outreach-*.eml")]
        if (folder / "outbox").exists()
        else []
    )
    return sorted(n.split("-", 1)[1].rsplit("-", 1)[0] for n in names)


def test_three_runs_of_ten_reach_thirty_partners_once_each_and_never_the_declined(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign = str(folder / "config" / "campaigns" / "test.toml")
    for _ in range(3):
        code, out, _ = run(folder, capsys, "campaign", campaign, "--limit", "10", "--send")
        assert code == 0
    reached = written(folder)
    assert len(reached) == 30 and len(set(reached)) == 30
    assert "dee@no.example" not in reached and "don@dne.example" not in reached
    code, out, _ = run(folder, capsys, "campaign", campaign, "--send")
    assert "30 reached before; 2 never (blocked or declined)" in out and "0 email(s) written" in out
    book = folder / "data" / "partners.xlsx"
    rows = [
        HEADER,
        *prospects(30),
        ["New Comer", "new@agency.example", "New Co", "agency", "prospect", False],
    ]
    write_workbook(book, {"Partners": rows})
    code, out, _ = run(folder, capsys, "campaign", campaign, "--send")
    assert "1 email(s) written" in out
    assert written(folder) == sorted([*reached, "new@agency.example"])


def test_the_dry_run_lists_the_audience_and_shows_one_email(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        folder, capsys, "campaign", str(folder / "config" / "campaigns" / "test.toml")
    )
    assert code == 0
    assert "32 partner(s) match the audience; 0 reached before; 2 never" in out
    assert "Subject: Hello Agency 0" in out and "Hi Pro," in out
    assert "Dry run: 30 email(s) would be written" in out
    assert not (folder / "outbox").exists()


def test_a_campaign_outreach_is_followed_up_in_its_thread_by_the_nurture_job(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(
        folder,
        capsys,
        "campaign",
        str(folder / "config" / "campaigns" / "test.toml"),
        "--limit",
        "1",
        "--send",
    )
    outreach = message_from_bytes(
        next((folder / "outbox").glob("outreach-*")).read_bytes(), policy=policy.default
    )
    later = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    code, out, _ = run(folder, capsys, "nurture", "--send", "--only", "follow_up", "--today", later)
    assert code == 0 and "Wrote 1 email(s)" in out
    follow_up = message_from_bytes(
        next((folder / "outbox").glob("follow_up-*")).read_bytes(), policy=policy.default
    )
    assert follow_up["In-Reply-To"] == outreach["Message-ID"]
    assert follow_up["Subject"] == f"Re: {outreach['Subject']}"


def test_an_unknown_audience_column_is_named(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = folder / "config" / "campaigns" / "bad.toml"
    path.write_text('name = "x"\ntemplate = "outreach"\n[audience]\nsector = "law"\n')
    code, _, err = run(folder, capsys, "campaign", str(path))
    assert code == 2
    assert f"campaign file {path}: audience.sector is not a Partners column" in err


def test_an_audience_value_no_partner_can_have_is_named_with_the_choices(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "prospects" for "prospect" matched nobody and the run said "0 to reach", exit 0.
    path = folder / "config" / "campaigns" / "bad.toml"
    path.write_text('name = "x"\ntemplate = "outreach"\n[audience]\nstatus = ["prospects"]\n')
    code, _, err = run(folder, capsys, "campaign", str(path))
    assert code == 2
    assert (
        f"campaign file {path}: audience.status names 'prospects', which no Partners status "
        "can be (one of: prospect, " in err
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"template": "outreach"}, "'name' is required"),
        ({"name": "Big Launch!", "template": "outreach"}, "may hold only lower-case letters"),
        ({"name": "x"}, "'template' is required"),
        ({"name": "x", "template": "outreach", "limit": -1}, "'limit' must be a whole number"),
        ({"name": "x", "template": "outreach", "audiences": {}}, "key 'audiences' is not known"),
    ],
)
def test_campaign_file_mistakes_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_campaign(data, "c.toml")


def test_the_shipped_example_campaigns_read_and_reach_the_samples_prospects(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from automations.jobs.plans.campaign import load_campaign

    files = sorted((project / "config" / "campaigns").glob("*.toml"))
    assert [f.name for f in files] == ["complementary-intro.toml", "prospects-intro.toml"]
    assert [load_campaign(f).name for f in files] == ["complementary-intro", "prospects-intro"]
    code, out, _ = run(project, capsys, "campaign", str(files[1]))
    assert code == 0 and "2 to reach" in out
    code, out, _ = run(project, capsys, "campaign", str(files[0]))
    assert "Subject: Brandt Consulting and Alex Rivera: worth a call?" in out


def test_a_snoozed_partner_waits_for_a_campaign_until_the_day(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    later = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    header = [*HEADER, "snooze_until"]
    rows = [[*row, None] for row in prospects(3)]
    rows[1][-1] = later
    write_workbook(folder / "data" / "partners.xlsx", {"Partners": [header, *rows]})
    campaign = str(folder / "config" / "campaigns" / "test.toml")
    code, out, _ = run(folder, capsys, "campaign", campaign, "--send")
    assert code == 0
    assert written(folder) == ["pro0@agency0.example", "pro2@agency2.example"]
    assert f"pro1@agency1.example: snoozed until {later}" in out
    in_eleven = (dt.date.today() + dt.timedelta(days=11)).isoformat()
    run(folder, capsys, "campaign", campaign, "--send", "--today", in_eleven)
    assert "pro1@agency1.example" in written(folder)


def test_two_overlapping_campaigns_under_review_propose_each_prospect_once_and_send_on_approval(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 23: the second campaign proposed the same prospects again, and after approval its
    # run stopped on `Cannot compare NaT with datetime.date` (a partner with no inbound).
    config = folder / "config" / "partners.toml"
    text = config.read_text(encoding="utf-8").replace('review = "none"', 'review = ["outreach"]')
    config.write_text(text, encoding="utf-8")
    campaigns = folder / "config" / "campaigns"
    narrow, wide = campaigns / "narrow.toml", campaigns / "wide.toml"
    narrow.write_text(
        'name = "narrow"\ntemplate = "outreach"\n[audience]\n'
        'company = ["Agency 1", "Agency 2", "Agency 3"]\n'
    )
    wide.write_text('name = "wide"\ntemplate = "outreach"\n[audience]\nstatus = "prospect"\n')
    code, out, err = run(folder, capsys, "campaign", str(narrow), "--send")
    assert code == 0, out + err
    assert "Proposed 3 email(s) for your approval" in out
    code, out, err = run(folder, capsys, "campaign", str(wide), "--send")
    assert code == 0, out + err
    left_out = [line for line in err.splitlines() if "is left out" in line]
    assert len(left_out) == 3 and all("already waits for your approval" in x for x in left_out)
    assert "Proposed 27 email(s) for your approval" in out
    code, out, err = run(folder, capsys, "review", "--all")
    assert code == 0, out + err
    assert "Recorded: 30 to send." in out
    assert "3 approved outreach email(s) of campaign narrow go with its next run" in out
    assert "27 approved outreach email(s) of campaign wide go with its next run" in out
    assert "still wait for your decision" not in out
    for campaign in (narrow, wide):
        code, out, err = run(folder, capsys, "campaign", str(campaign), "--send")
        assert code == 0 and "internal error" not in err, out + err
    reached = written(folder)
    assert len(reached) == 30 and len(set(reached)) == 30
    for campaign in (narrow, wide):
        run(folder, capsys, "campaign", str(campaign), "--send")
    assert written(folder) == reached  # nothing twice


def test_a_second_campaign_never_sends_a_first_hello_to_a_prospect_the_first_one_reached(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by the hostile pass: a week later an overlapping campaign introduced the
    # toolkit's user to the same prospects again ("0 reached before": it counted its own).
    first = folder / "config" / "campaigns" / "test.toml"
    wide = folder / "config" / "campaigns" / "wide.toml"
    wide.write_text('name = "wide"\ntemplate = "outreach"\n[audience]\nstatus = "prospect"\n')
    code, out, err = run(folder, capsys, "campaign", str(first), "--send", "--limit", "5")
    assert code == 0, out + err
    reached = written(folder)
    assert len(reached) == 5
    later = (dt.date.today() + dt.timedelta(days=8)).isoformat()
    code, out, err = run(folder, capsys, "campaign", str(wide), "--send", "--today", later)
    assert code == 0, out + err
    assert "5 reached before" in out
    assert sorted(written(folder)) == sorted({*reached, *written(folder)})
    assert len(written(folder)) == 30  # the other 25 prospects, each introduced once


def test_a_campaign_dry_run_under_review_shows_what_the_sending_run_would_do(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # CLI.md: a dry run shows what the sending run will do; proposals already waiting are
    # not due again (the campaign's plan goes through the one pipeline, review step and all).
    config = folder / "config" / "partners.toml"
    text = config.read_text(encoding="utf-8").replace('review = "none"', 'review = ["outreach"]')
    config.write_text(text, encoding="utf-8")
    narrow = folder / "config" / "campaigns" / "narrow.toml"
    narrow.write_text(
        'name = "narrow"\ntemplate = "outreach"\n[audience]\n'
        'company = ["Agency 1", "Agency 2", "Agency 3"]\n'
    )
    code, out, err = run(folder, capsys, "campaign", str(narrow))
    assert code == 0 and "Dry run: 3 email(s) would be" in out, out + err
    code, out, err = run(folder, capsys, "campaign", str(narrow), "--send")
    assert code == 0 and "Proposed 3 email(s) for your approval" in out, out + err
    code, out, err = run(folder, capsys, "campaign", str(narrow))
    assert code == 0 and "Dry run: 0 email(s) would be" in out, out + err
