"""The quarterly survey: pre-filled links, last quarter's facts, and the report."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from automations.cli import main
from automations.core.engine import arrays
from automations.core.keys import quarter_label
from automations.core.schema import SURVEY_ITEMS
from automations.core.survey import form_link, previous_quarter, report
from automations.core.wording import quarter_name
from tests.conftest import SENDER, TODAY, Sheet, set_keys

P = "pat@partner.example"


def run(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out, err


def links(eml: Path) -> list[str]:
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


def test_the_survey_email_links_to_the_form_with_the_partner_filled_in(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_keys(project / "config" / "partners.toml", "survey", respondent_field="entry.2000002")
    code, out, _ = run(project, capsys, "survey", "--send")
    assert code == 0 and "2 survey, 1 survey_owner" in out
    (aiko,) = (project / "outbox").glob("survey-aiko@kumo.example-*.eml")
    (link,) = links(aiko)
    parts = urlsplit(link)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://docs.google.com/forms/d/e/EXAMPLE-FORM-ID/viewform"
    )
    assert parse_qs(parts.query) == {"usp": ["pp_url"], "entry.1000001": ["aiko@kumo.example"]}
    text = (
        message_from_bytes(aiko.read_bytes(), policy=policy.default)
        .get_body(("plain",))
        .get_content()
    )  # type: ignore[union-attr]
    last = quarter_label(arrays.quarter_start(dt.date.today()) - dt.timedelta(days=1))
    assert last not in text  # said as people say it: "From July to September, you sent me..."
    flowing = " ".join(text.split())
    assert "From " not in flowing or f"From {quarter_name(last)}, " in flowing
    (own,) = (project / "outbox").glob("survey_owner-*.eml")
    owner_links = [parse_qs(urlsplit(u).query) for u in links(own)]
    assert {
        "entry.1000001": ["aiko@kumo.example"],
        "entry.2000002": [SENDER_SAMPLE],
        "usp": ["pp_url"],
    } in owner_links
    code, out, _ = run(project, capsys, "survey", "--send")
    assert "Nothing is due" in out  # once a quarter, owners included


SENDER_SAMPLE = "alex@rivera-consulting.example"


def test_last_quarters_facts_are_counted_each_way() -> None:
    today = dt.date(2026, 11, 25)  # Q4: the last full quarter is Q3
    s = (
        Sheet(today=today)
        .partner()
        .referral(0, date="2026-07-02", client="Ann", status="won")
        .referral(0, date="2026-09-30", client="Bo", status="new")
        .referral(0, date="2026-08-15", direction="given", client="Cy", status="lost")
        .referral(0, date="2026-10-01", client="Later")
        .referral(0, date="2026-06-30", client="Earlier")
    )
    facts_ = previous_quarter(s.tables().referrals, P, today)
    assert facts_ == {
        "label": "2026Q3",
        "received": 2,
        "given": 1,
        "won": 1,
        "lost": 1,
        "open": 1,
        "clients": ["Ann", "Bo"],
    }


def test_the_report_lists_exactly_the_items_three_or_more_points_apart() -> None:
    theirs = [8, 8, 8, 8, 8, 8, 8, 8, 8, 8]
    ours = [8, 5, 6, 8, 2, 8, 9, 4, 8, 8]  # 3, 2, 0, 6, 0, 1, 4 points apart ...
    s = Sheet().partner().response(10, theirs).response(5, ours, respondent=SENDER)
    frame = report(s.tables(), TODAY, SENDER)
    row = frame.set_index("email").loc[P]
    assert (
        row["differ"]
        == "transparency (partner 8, you 5); shared_goals (partner 8, you 2); feedback (partner 8, you 4)"
    )
    assert row["partner_avg"] == 8.0 and row["self_avg"] == pytest.approx(6.6)
    assert [row[f"self_{i}"] for i in SURVEY_ITEMS] == ours


def test_a_rating_outside_one_to_nine_is_a_row_error() -> None:
    s = Sheet().partner().response(3, [8, 8, 8, 8, 8, 8, 8, 8, 8, 12])
    problems = [str(p) for p in s.tables().problems]
    assert any("Survey!2 problem_response" in p and "12" in p for p in problems), problems


def test_survey_report_prints_csv_and_json(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(project, capsys, "survey", "report", "--format", "csv")
    assert code == 0 and out.startswith("name,email,owner,partner_answered,partner_avg")
    code, out, _ = run(project, capsys, "survey", "report", "--format", "json")
    assert '"differ": "protocol (partner 8, you 5); quarterly_review (partner 8, you 4)"' in out


def test_the_form_link_keeps_an_existing_query() -> None:
    link = form_link(
        "https://f.example/v?hl=en", "entry.1", "entry.2", "p@x.example", "me@x.example"
    )
    assert parse_qs(urlsplit(link).query) == {
        "hl": ["en"],
        "usp": ["pp_url"],
        "entry.1": ["p@x.example"],
        "entry.2": ["me@x.example"],
    }


def test_no_owner_invitation_goes_without_a_respondent_field_and_the_run_says_why(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # RULES.md, "Owner self-assessment": the owner's ratings would be stored as the partner's.
    config = project / "config" / "partners.toml"
    set_keys(config, "survey", respondent_field="")
    _, out, err = run(project, capsys, "survey", "--send")
    assert "2 survey" in out and "survey_owner" not in out
    assert not list((project / "outbox").glob("survey_owner-*.eml"))
    assert (
        "no self-assessment invitation went to the owners: [survey] respondent_field is empty"
        in err
    )
    _, _, err = run(project, capsys, "check")
    assert "[survey] respondent_field is empty" in err


def test_an_owner_who_is_also_a_partner_gets_both_surveys_under_different_keys(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import set_keys as keys_of

    config = project / "config" / "partners.toml"
    keys_of(config, "survey", respondent_field="entry.2000002")
    # Aiko owns her own partnership (she is due a survey) and so is asked to self-assess too.
    from tests.projects import SheetProject

    sheet = SheetProject.__new__(SheetProject)
    sheet.path, sheet.emulator = project, None
    sheet.set_partner("aiko@kumo.example", "owner", "aiko@kumo.example")
    run(project, capsys, "survey", "--send")
    assert list((project / "outbox").glob("survey-aiko@kumo.example-*.eml"))
    assert list((project / "outbox").glob("survey_owner-aiko@kumo.example-*.eml"))
    quarter = quarter_label(dt.date.today())
    keys = {r["key"] for r in sheet.log_rows()}
    assert {
        f"survey:aiko@kumo.example:{quarter}",
        f"survey_owner:aiko@kumo.example:{quarter}",
    } <= keys
