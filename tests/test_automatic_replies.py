"""Automatic replies as Gmail, Exchange/Outlook, Sieve, cPanel, CommuniGate, FirstClass and
qmail send them (EMAIL.md, "Replies and bounces"): the kind, the return day, and no person
dropped."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from automations.adapters.replytext import before_quote
from automations.core.replies import Known, classify
from automations.core.returnday import return_day

DATA = Path(__file__).parent / "data" / "autoreplies"
KNOWN = Known(
    partners=frozenset({"priya@stackwise.example"}),
    sent_ids={"<pa.0123@rivera-consulting.example>": "priya@stackwise.example"},
    unsubscribe_address="alex@rivera-consulting.example",
    cut=before_quote,
)
with (DATA / "expected.csv").open() as f:
    CASES = [(r["file"], r["kind"], r["back"]) for r in csv.DictReader(f)]
SENT = dt.date(2026, 11, 20)


def _read(name: str) -> tuple[str, str]:
    verdict = classify((DATA / name).read_bytes(), KNOWN)
    return verdict.kind, verdict.back.isoformat() if verdict.back else ""


def test_the_test_data_has_forty_automatic_replies_and_some_people() -> None:
    assert sum(kind != "reply" for _, kind, _ in CASES) >= 40
    assert sum(kind == "reply" for _, kind, _ in CASES) >= 4


@pytest.mark.parametrize(("name", "kind", "back"), CASES, ids=[c[0] for c in CASES])
def test_an_automatic_reply_is_read_with_its_return_day_and_a_person_is_a_reply(
    name: str, kind: str, back: str
) -> None:
    assert _read(name) == (kind, back)


def test_an_all_numeric_day_is_read_by_the_sheets_date_order() -> None:
    text = "I am out of the office until 01/05/2027."
    assert return_day(text, SENT) is None
    assert return_day(text, SENT, "MDY") == dt.date(2027, 1, 5)
    assert return_day("back on 25/01/2027", SENT) == dt.date(2027, 1, 25)


@pytest.mark.parametrize(
    "text",
    ["Call me on +31 6 1234 5678.", "Telefon: 030 12 01 2027", "Tel. 0171/12.01.27", "+31"],
)
def test_digits_inside_a_phone_number_are_never_a_return_day(text: str) -> None:
    assert return_day(f"Out of office. {text}", SENT) is None
