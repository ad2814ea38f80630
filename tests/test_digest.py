"""`partners digest`: one weekly email per owner, about their partners only, with a chart."""

from __future__ import annotations

import datetime as dt
import io
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import Image

from automations.cli import main
from automations.core.digest import quarter_series
from automations.core.keys import iso_week
from tests.conftest import Sheet
from tests.projects import SheetProject

SAM = "sam@rivera-consulting.example"
SAMS = {"zoe@nunez.example": "Zoë Ñúñez", "dana@northwind.example": "Dana Whitfield"}


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    p = SheetProject(tmp_path)
    for email in SAMS:
        p.set_partner(email, "owner", SAM)
    return p


def run(
    project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out, err


def digest(project: SheetProject, owner: str) -> EmailMessage:
    (path,) = (project / "outbox").glob(f"digest-{owner}-*.eml")
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_each_owner_gets_one_digest_about_their_partners_only(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(project, capsys, "digest", "--send")
    assert code == 0
    assert f"--- digest for {SAM}" in out and "Here is your partner week" in out  # also on screen
    sams = digest(project, SAM).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    alexs = digest(project, "alex@rivera-consulting.example").get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for name in SAMS.values():
        assert name in sams and name not in alexs
    assert "Elena Rossi" in alexs and "Elena Rossi" not in sams
    assert digest(project, SAM)["Auto-Submitted"] == "auto-generated"
    assert f"digest:{SAM}:{iso_week(dt.date.today())}" in {r["key"] for r in project.log_rows()}
    code, out, _ = run(project, capsys, "digest", "--send")
    assert "Nothing is due" in out  # once a week


def test_the_chart_is_a_png_the_html_shows_by_its_content_id(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    run(project, capsys, "digest", "--send")
    msg = digest(project, SAM)
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    (cid,) = re.findall(r'src="cid:([^"]+)"', html)
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert [p["Content-ID"] for p in images] == [f"<{cid}>"]
    png = images[0].get_content()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).size[0] >= 300
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "(Referrals received and given per quarter: in the HTML version)" in text


def test_the_chart_series_count_the_sheets_referrals_per_quarter() -> None:
    today = dt.date(2026, 11, 25)
    s = (
        Sheet(today=today)
        .partner("a@p.example")
        .partner("b@p.example")
        .referral(0, email="a@p.example", date="2026-11-02")
        .referral(0, email="a@p.example", date="2026-10-01", direction="given")
        .referral(0, email="a@p.example", date="2026-08-10")
        .referral(0, email="b@p.example", date="2026-08-11")
        .referral(0, email="a@p.example", date="2026-01-05")
        .referral(0, email="a@p.example", date="2026-03-31", direction="given")
        .referral(0, email="a@p.example", date="2025-12-31")  # 2025Q4: before the window
    )
    referrals = s.tables().referrals
    assert quarter_series(referrals, ["a@p.example"], today) == [
        ("2026Q1", 1, 1),
        ("2026Q2", 0, 0),
        ("2026Q3", 1, 0),
        ("2026Q4", 1, 1),
    ]
    assert quarter_series(referrals, ["a@p.example", "b@p.example"], today)[2] == ("2026Q3", 2, 0)


def test_the_digest_lists_every_referral_still_stale_even_after_its_escalation(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    run(project, capsys, "nurture", "--send")  # the escalation for Dana's referral goes
    run(project, capsys, "digest", "--send")
    text = digest(project, SAM).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Referrals still open:" in text and "**" not in text  # EMAIL.md: no markers
    assert "Harbor Bakery (from Dana Whitfield," in text and "still new after 20 days" in text


def test_an_owner_whose_every_partner_row_has_a_problem_still_gets_a_digest(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each of Sam's rows is `fix row` in Health, with no next_due at all: the "coming up"
    # list compared an all-empty date column to a day, which pandas refuses.
    for email in SAMS:
        project.set_partner(email, "type", "nonsense")
    code, out, err = run(project, capsys, "digest")
    assert "internal error" not in err
    assert f"--- digest for {SAM}" in out
    assert "Partners!" in err and "type" in err  # each row is still named, with its fix
    assert code == 1
