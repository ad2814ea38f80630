"""Drafts: who gets which email, with which keys, and what the template sees."""

from __future__ import annotations

import datetime as dt
import re

from automations.core.mail.drafting import drafts
from automations.core.mail.letterhead import Letterhead, Sender, SurveyForm
from automations.core.survey import form_link
from tests.conftest import SENDER, TODAY, Sheet

LETTERHEAD = Letterhead(
    Sender(name="Me", email=SENDER),
    SurveyForm(url="https://forms.example/f/viewform", email_field="entry.1"),
)


def made(s: Sheet) -> list:
    return drafts(s.tables(), s.decide(), LETTERHEAD, TODAY)


def test_all_escalations_of_one_owner_go_in_one_email() -> None:
    s = (
        Sheet()
        .partner("a@p.example", name="Ann")
        .partner("b@p.example", name="Bo")
        .partner("c@p.example", name="Cy", owner="sam@consult.example")
        .referral(20, email="a@p.example")
        .referral(20, email="b@p.example", direction="given")
        .referral(25, email="c@p.example")
    )
    escalations = [d for d in made(s) if d.kind == "escalation"]
    assert [(d.to_email, len(d.context["items"])) for d in escalations] == [
        (SENDER, 2),
        ("sam@consult.example", 1),
    ]
    mine = escalations[0]
    assert sorted(mine.keys) == [
        f"escalation:a@p.example:received:{TODAY - dt.timedelta(days=20)}",
        f"escalation:b@p.example:given:{TODAY - dt.timedelta(days=20)}",
    ]
    assert sorted(mine.key_partners) == ["a@p.example", "b@p.example"]


def test_a_thank_covers_every_unthanked_referral_and_blank_cells_are_empty() -> None:
    s = Sheet().partner(company="").referral(3, client="").referral(1, client="Zed")
    thank = next(d for d in made(s) if d.kind == "thank")
    assert len(thank.keys) == 2
    assert [r["client"] for r in thank.context["referrals"]] == ["", "Zed"]
    assert thank.context["partner"]["company"] == ""
    assert thank.context["partner"]["cadence_days"] == ""
    assert thank.context["referral"]["date"] == TODAY - dt.timedelta(days=1)


def test_the_survey_link_prefills_the_partners_email() -> None:
    link = form_link("https://forms.example/f/viewform", "entry.1", "", "pat+x@p.example")
    assert link == "https://forms.example/f/viewform?usp=pp_url&entry.1=pat%2Bx%40p.example"
    assert form_link("https://f.example/v?a=1", "entry.1", "", "p@x").startswith(
        "https://f.example/v?a=1&"
    )
    assert form_link("", "entry.1", "", "p@x") == ""


def test_drafts_come_in_priority_order_escalations_first() -> None:
    s = (
        Sheet()
        .partner("a@p.example")
        .partner("b@p.example")
        .referral(20, email="a@p.example")
        .referral(2, email="b@p.example")
    )
    kinds = [d.kind for d in made(s)]
    assert kinds[0] == "escalation"
    assert re.fullmatch(r"escalation(,thank)+", ",".join(kinds))
