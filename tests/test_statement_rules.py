"""The statement rule, its Health column, its ledger and the reading of answers (RULES.md,
EMAIL.md and SHEET.md, Statements)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from automations.core import survey
from automations.core.engine import actions
from automations.core.engine import arrays as f
from automations.core.engine.decide import decide
from automations.core.engine.decisions import DecideOptions, Decisions
from automations.core.engine.facts import gather
from automations.core.engine.rules import Rules
from automations.core.replies import Known, classify
from automations.core.statement_mail import ledgers
from automations.core.statement_reply import statement_answer
from tests.conftest import SENDER, Sheet
from tests.imap_messages import message

DAY = dt.date(2026, 5, 20)  # every phase day of the quarter's first six weeks is past
PAT = "pat@partner.example"
SPREAD = Rules(spread_days=1)  # the quarter's phase days as shipped, no check-in spread


def decided(s: Sheet, today: dt.date = DAY, *, on: bool = True, survey: bool = False) -> Decisions:
    options = DecideOptions(sender_email=SENDER, statement_enabled=on, survey_enabled=survey)
    return decide(s.tables(), today, SPREAD, options)


def row(s: Sheet, today: dt.date = DAY, email: str = PAT, **kw: Any) -> dict[str, Any]:
    return decided(s, today, **kw).health.set_index("email").loc[email].to_dict()


def kinds(s: Sheet, today: dt.date = DAY, **kw: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(d.kind, d.partner_email, d.keys) for d in decided(s, today, **kw).due]


def exchanged_last_quarter() -> Sheet:
    s = Sheet(today=DAY).partner(first_contact=400)
    s.referral(0, date="2026-02-10", status="won", value=5000, closed=None)
    return s.referral(0, date="2026-03-02", direction="given", status="qualified")


def test_an_active_partner_with_a_referral_last_quarter_gets_the_quarters_statement() -> None:
    s = exchanged_last_quarter()
    assert kinds(s) == [("statement", PAT, (f"statement:{PAT}:2026Q2",))]
    health = row(s)
    assert health["action"] == "statement"
    assert health["reason"] == (
        "referrals in January to March 2026 (1 from them and 1 to them): quarterly statement "
        "not sent yet"
    )


def test_no_statement_without_a_referral_either_way_last_quarter_or_when_turned_off() -> None:
    s = Sheet(today=DAY).partner(first_contact=400).referral(0, date="2025-12-20")
    assert not [k for k in kinds(s) if k[0] == "statement"]
    assert not [k for k in kinds(exchanged_last_quarter(), on=False) if k[0] == "statement"]


def test_a_paused_or_do_not_email_partner_gets_no_statement() -> None:
    for kw in ({"status": "paused"}, {"do_not_email": True}):
        s = Sheet(today=DAY).partner(first_contact=400, **kw).referral(0, date="2026-02-10")
        assert not [k for k in kinds(s) if k[0] == "statement"], kw


def test_next_due_is_the_partners_phase_day_and_deciding_then_finds_it_due() -> None:
    s = exchanged_last_quarter()
    health = row(s, dt.date(2026, 4, 1))
    if health["action"] == "statement":  # this address's phase day is the quarter's first
        return
    day = health["next_due"].date()
    assert health["reason"] == f"next statement due {day.isoformat()}"
    assert dt.date(2026, 4, 2) <= day <= dt.date(2026, 5, 12)
    assert row(s, day)["action"] == "statement"
    assert row(s, day - dt.timedelta(days=1))["action"] == "none"


def test_a_statement_is_not_held_by_spacing_and_a_survey_due_the_same_day_waits() -> None:
    s = exchanged_last_quarter().sent(2, "nurture", f"nurture:{PAT}:2026-02-10")
    assert row(s, survey=True)["action"] == "statement"
    later = exchanged_last_quarter().sent(1, "statement", f"statement:{PAT}:2026Q2")
    health = row(later, survey=True)
    assert health["action"] == "none"
    assert health["reason"].startswith("survey waits: last email on 2026-05-19")


def test_a_sent_statement_is_not_sent_again_and_the_next_one_is_next_quarters() -> None:
    s = exchanged_last_quarter().sent(10, "statement", f"statement:{PAT}:2026Q2")
    assert not [k for k in kinds(s) if k[0] == "statement"]
    assert np.isnan(statement_rule(s).next_day[0])
    s.referral(5, direction="given", status="qualified")  # this quarter: next quarter's is due
    day = f.date_of(statement_rule(s).next_day[0])
    assert dt.date(2026, 7, 1) <= day <= dt.date(2026, 8, 11)
    assert row(s, day).get("action") == "statement"


def statement_rule(s: Sheet) -> actions.Due:
    options = DecideOptions(sender_email=SENDER, statement_enabled=True)
    return actions.statement(gather(s.tables(), DAY, SPREAD, options), SPREAD, DAY, True)


def test_a_first_run_late_in_a_quarter_sends_no_old_statement() -> None:
    s = exchanged_last_quarter()
    assert not [k for k in kinds(s, dt.date(2026, 6, 10)) if k[0] == "statement"]


@pytest.mark.parametrize(
    ("log", "touch", "state"),
    [
        ([], None, None),
        ([("sent", 20)], None, "sent 2026-04-30"),
        ([("sent", 20), ("confirmed", 18)], None, "confirmed 2026-05-02"),
        ([("sent", 20), ("disputed", 18)], None, "disputed 2026-05-02"),
        ([("sent", 20), ("disputed", 18)], 19, "disputed 2026-05-02"),  # a touch before it
        ([("sent", 20), ("disputed", 18)], 15, "settled 2026-05-05"),
    ],
)
def test_health_shows_where_the_statement_stands(
    log: list[tuple[str, int]], touch: int | None, state: str | None
) -> None:
    s = exchanged_last_quarter()
    for status, days in log:
        action = "statement"
        key = f"statement:{PAT}:2026Q2" if status == "sent" else f"<r{days}@partner.example>"
        s.sent(days, action, key, status=status, detail="#1 was lost")
    if touch is not None:
        s.touch(touch, kind="statement", direction="out")
    assert row(s)["statement"] == state


def test_the_ledger_states_the_fee_as_healths_fee_owed_and_leaves_zero_counts_out() -> None:
    s = Sheet(today=DAY).partner(first_contact=400, fee=10)
    s.referral(0, date="2026-02-10", status="won", value=5000, closed=90, fee_paid=200)
    s.referral(0, date="2025-11-10", status="won", value=1000, closed=200)
    tables = s.tables()
    health = decided(s).health.set_index("email")
    partners = {PAT: tables.partners.set_index("email").loc[PAT].to_dict()}
    said = ledgers(tables.referrals, partners, {PAT: {"fee_owed": 400.0}}, [PAT], DAY, "USD")
    ledger = said[PAT]
    assert health.loc[PAT, "fee_owed"] == 400.0
    assert ledger["fee"]["owed"] == 400.0 and ledger["fee"]["paid"] == 200.0
    assert "I've paid $200, so I still owe you $400" in ledger["fee"]["sentence"]
    assert ledger["said"] == "You sent me Client Co on 10 February."  # nothing "I sent you 0"
    assert [r["standing"] for r in ledger["rows"]] == ["won on 19 February ($5,000)"]
    assert ledger["rows"][0]["fee"] == "$500, $200 paid"


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("All correct, thanks!", "confirmed"),
        ("Looks right to me.", "confirmed"),
        ("Confirmed. Talk soon!", "confirmed"),
        ("#2 closed in May, not June", "disputed"),
        ("Looks right, except Harbor was won", "disputed"),
        ("You forgot the one I sent in March", "disputed"),
        ("The fee was $450", "disputed"),
        ("Thanks Alex, hope you're well!", ""),
    ],
)
def test_an_answer_agrees_corrects_or_is_a_plain_reply(words: str, answer: str) -> None:
    assert statement_answer(words) == answer


STATEMENT_ID = "<st1@consult.example>"
KNOWN = Known(
    partners=frozenset({PAT}),
    sent_ids={STATEMENT_ID: PAT},
    unsubscribe_address=SENDER,
    statement_ids=frozenset({STATEMENT_ID}),
)


def test_an_opt_out_in_a_statements_thread_is_an_opt_out_and_an_answer_elsewhere_a_reply() -> None:
    stop = message(
        PAT,
        SENDER,
        "Re: Our referrals",
        in_reply_to=STATEMENT_ID,
        body="Please remove me from these emails.",
    )
    assert classify(stop, KNOWN).kind == "unsubscribe"
    agrees = message(
        PAT, SENDER, "Re: Our referrals", in_reply_to=STATEMENT_ID, body="All correct!"
    )
    verdict = classify(agrees, KNOWN)
    assert (verdict.kind, verdict.partner_email, verdict.detail) == (
        "confirmed",
        PAT,
        "All correct!",
    )
    elsewhere = message(PAT, SENDER, "Lunch?", body="All correct, see you Tuesday")
    assert classify(elsewhere, KNOWN).kind == "reply"


def test_a_referral_sent_before_the_quarter_and_closed_in_it_is_told_apart() -> None:
    s = Sheet(today=DAY).partner(first_contact=400)
    s.referral(0, date="2025-12-12", client="Delta Freight", status="won", closed=120)
    s.referral(0, date="2026-02-11", client="Cedar Homes", direction="given", status="lost")
    tables = s.tables()
    partners = {PAT: tables.partners.set_index("email").loc[PAT].to_dict()}
    ledger = ledgers(tables.referrals, partners, {}, [PAT], DAY, "USD")[PAT]
    assert ledger["said"] == "I sent you Cedar Homes on 11 February."
    assert ledger["closed_earlier"] == (
        "Delta Freight, which you sent me on 12 December 2025, was won on 20 January."
    )
    assert [r["standing"] for r in ledger["rows"]] == ["won on 20 January", "didn't go ahead"]


def test_the_survey_report_shows_where_each_partners_statement_stands() -> None:
    s = exchanged_last_quarter().response(10, [7] * 10)
    s.sent(20, "statement", f"statement:{PAT}:2026Q2").sent(
        18, "statement", "<r@p>", status="confirmed"
    )
    frame = survey.report(s.tables(), DAY, SENDER)
    assert frame.set_index("email").loc[PAT, "statement"] == "confirmed 2026-05-02"
