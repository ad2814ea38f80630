"""A year of weekly runs on the demo project, read as the partners receive it (EMAIL.md,
"Over a year"; issue 26, acceptance 1)."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from openpyxl import load_workbook

from automations import cli, commands
from tests.test_wording import alike

ANSWERS = "dana@northwind.example"  # answers everything three days later; nobody else does
COLD = ("rafael@costa.example", "diego@alvarez.example", "priya@stackwise.example")


class Mail(NamedTuple):
    day: dt.date
    kind: str
    to: str
    subject: str
    body: str


def _new_mail(outbox: Path, seen: set[str], day: dt.date) -> list[Mail]:
    out = []
    for path in sorted(outbox.glob("*.eml")):
        if path.name in seen:
            continue
        seen.add(path.name)
        message: Any = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",)).get_content()
        kind = path.name.split("-", 1)[0]
        out.append(Mail(day, kind, message["To"].addresses[0].addr_spec, message["Subject"], body))
    return out


def _answer(book: Path, mails: list[Mail]) -> None:
    """The answering partner's reply, three days after each email, as a Touches row."""
    wb = load_workbook(book)
    for mail in mails:
        when = dt.datetime.combine(mail.day + dt.timedelta(days=3), dt.time())
        wb["Touches"].append([when, ANSWERS, "email", "in", "answered"])
    wb.save(book)


def year_of_mail(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[Mail]:
    """52 weekly `partners nurture --send` runs, each at 10:00 on its `--today`."""
    start, seen, mails = dt.date.today(), set[str](), list[Mail]()
    config = str(project / "config" / "partners.toml")
    for week in range(52):
        day = start + dt.timedelta(days=7 * week)
        now = dt.datetime.combine(day, dt.time(10), dt.UTC)
        monkeypatch.setattr(commands, "clock_of", lambda settings, now=now: lambda: now)
        assert cli.main(["nurture", "--send", "--today", day.isoformat(), "--config", config]) in (
            0,
            1,
        )
        new = _new_mail(project / "outbox", seen, day)
        mine = [m for m in new if m.to == ANSWERS]
        if mine:
            _answer(project / "data" / "partners.xlsx", mine)
        mails += new
    return mails


def test_a_year_of_weekly_runs_reads_as_a_person_wrote_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mails = year_of_mail(project, monkeypatch)
    capsys.readouterr()
    periodic = [m for m in mails if m.kind in ("nurture", "survey", "statement")]
    by_partner = collections.defaultdict(list)
    for mail in periodic:
        by_partner[mail.to].append(mail)
    for to, theirs in by_partner.items():
        for a, b in itertools.combinations(theirs, 2):
            if a.kind == b.kind != "statement" and (b.day - a.day).days < 365:
                assert alike(a.body, b.body) < 0.9, (to, a.day, b.day, a.body, b.body)
        surveys = [m for m in theirs if m.kind == "survey"]
        if to != ANSWERS:  # nobody else answers: two surveys at most
            assert len(surveys) <= 2, (to, [m.day for m in surveys])
        quarters = [(m.day.year, (m.day.month - 1) // 3) for m in theirs if m.kind == "statement"]
        assert len(quarters) == len(set(quarters)), (to, quarters)  # once a quarter at most
    kinds = collections.Counter(m.kind for m in periodic)
    # A statement is a touch (RULES.md: only a survey is not), so it pushes a check-in back.
    assert 0 < kinds["survey"] <= kinds["nurture"] + kinds["statement"]
    assert kinds["statement"] > 0
    for kind, total in kinds.items():
        per_day = collections.Counter(m.day for m in periodic if m.kind == kind)
        assert max(per_day.values()) <= max(3, total / 4), (kind, per_day.most_common(3))
    for to in COLD:
        notes = [m for m in periodic if m.to == to]
        assert len(notes) <= 1, (to, [m.day for m in notes])
        for note in notes:
            assert note.subject == "Closing the loop" and "I won't write again" in note.body
    assert any(m.kind == "survey" for m in by_partner[ANSWERS])
