"""Templates: subject line, text and HTML parts, blanks, faults that name template/line/field."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.core.mail.letterhead import Letterhead, Sender
from automations.core.mail.partner import partner_facts
from automations.core.render import Templates, TemplateSource, money, plain
from automations.core.statement_mail import ledger
from automations.core.wording import exchange
from automations.errors import TemplateFault

TODAY = dt.date(2026, 11, 25)
SHIPPED = Path(__file__).parent.parent / "templates"
KINDS = (
    "outreach",
    "follow_up",
    "nurture",
    "thank",
    "outcome",
    "survey",
    "statement",
    "survey_owner",
    "escalation",
    "digest",
)


def shipped() -> Templates:
    sources = {}
    for item in SHIPPED.iterdir():
        name = item.name.removesuffix(".md")
        sources[name] = TemplateSource(name, f"templates/{item.name}", item.read_text("utf-8"))
    return Templates(sources)


def one(text: str, name: str = "t") -> Templates:
    return Templates({name: TemplateSource(name, f"templates/{name}.md", text)})


BLANK_PARTNER = {
    "name": "",
    "email": "pat@partner.example",
    "company": "",
    "type": "",
    "status": "active",
    "owner": "",
    "first_contact": "",
    "referral_fee_pct": "",
    "cadence_days": "",
    "do_not_email": False,
    "tags": "",
    "notes": "",
}
BLANK_REFERRAL = {
    "date": dt.date(2026, 11, 2),
    "direction": "received",
    "partner_email": "pat@partner.example",
    "client": "",
    "status": "",
    "value": "",
    "closed_on": "",
    "fee_paid": "",
    "notes": "",
}


# A referral of last quarter with every optional cell blank, as the sheet reader types it.
BLANK_LEDGER_ROW = pd.DataFrame(
    {
        "date": pd.to_datetime(["2026-08-02"]),
        "direction": ["received"],
        "partner_email": ["pat@partner.example"],
        "client": [""],
        "status": ["new"],
        "value": [float("nan")],
        "closed_on": pd.to_datetime([None]),
        "fee_paid": [float("nan")],
    }
)


def blank_context() -> dict[str, Any]:
    letterhead = Letterhead(Sender("Alex Rivera", "alex@r.example"))
    health = {"last_touch": "", "reason": "", "survey_avg": ""}
    facts = partner_facts(BLANK_PARTNER, health, [BLANK_REFERRAL], letterhead, TODAY)
    return {
        **facts,
        "items": [
            {
                "partner": BLANK_PARTNER,
                "health": {},
                "referrals": [BLANK_REFERRAL],
                "survey": True,
                "survey_avg": "",
                "reason": "",
                "what": "",
                "survey_url": "",
            }
        ],
        "survey_url": "",
        "quarter_label": "2026Q4",
        "quarter_name": "October to December 2026",
        "quarter": {
            "label": "2026Q3",
            "received": 0,
            "given": 0,
            "won": 0,
            "lost": 0,
            "open": 0,
            "clients": [],
            **exchange({"label": "2026Q3"}, TODAY),
        },
        "unsubscribe": {"address": "alex@r.example", "mailto": "mailto:alex@r.example", "url": ""},
        "digest": {
            "week": "2026-W48",
            "done": [],
            "due": [],
            "escalations": [],
            "stale": [],
            "fades": [],
            "waiting": [],
            "fees_owed": "",
            "fees": [],
            "top": [],
            "quarters": [],
            "low_surveys": [],
            "chart_cid": "",
            "disputes": [],
        },
        "statement": ledger(
            BLANK_LEDGER_ROW, BLANK_LEDGER_ROW.iloc[0:0], BLANK_PARTNER, {}, TODAY, ""
        ),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_shipped_template_renders_with_every_optional_cell_blank(kind: str) -> None:
    rendered = shipped().render(kind, blank_context())
    for part in (rendered.subject, rendered.text, rendered.html):
        assert not re.search(r"\b(None|nan|NaN|NaT|undefined)\b", part), part
        assert "XPAVAL" not in part
    assert rendered.subject.strip()
    assert rendered.text.strip()
    assert "<p>" in rendered.html


def test_all_eight_kinds_are_shipped() -> None:
    assert set(KINDS) <= set(shipped().sources)


def test_the_subject_comes_from_the_first_line() -> None:
    r = one("Subject: Hello {{ name }}\n\nBody for {{ name }}.\n").render("t", {"name": "Zoë"})
    assert r.subject == "Hello Zoë"
    assert r.text == "Body for Zoë.\n"


def test_sheet_values_are_escaped_in_html_and_never_read_as_markup() -> None:
    value = "<script>x</script> **bold** [link](https://evil.example) {{ 7*7 }}"
    r = one("Subject: s\n\nHi {{ v }}\n").render("t", {"v": value})
    assert "<script>" not in r.html
    assert "&lt;script&gt;" in r.html
    assert "<strong>" not in r.html and "<a " not in r.html
    assert "{{ 7*7 }}" in r.text and "49" not in r.text
    assert r.text == f"Hi {value}\n"


def test_template_markdown_becomes_html_and_links_read_well_as_text() -> None:
    r = one("Subject: s\n\nSee **this**: [the form]({{ url }})\n").render(
        "t", {"url": "https://f.example/x?a=1&b=2"}
    )
    assert "<strong>this</strong>" in r.html
    assert '<a href="https://f.example/x?a=1&amp;b=2">the form</a>' in r.html
    assert r.text == "See this: the form (https://f.example/x?a=1&b=2)\n"  # EMAIL.md: no **


def test_a_missing_field_names_template_line_and_field() -> None:
    t = one("Subject: s\n\nHi {{ partner.name }},\n\n{{ partner.nickname }}\n", "thank")
    with pytest.raises(TemplateFault) as caught:
        t.render("thank", {"partner": {"name": "Pat"}})
    assert str(caught.value) == "templates/thank.md line 5: unknown field 'nickname'"


def test_a_syntax_error_names_template_and_line() -> None:
    t = one("Subject: s\n\nHi {{ partner.name }\n", "nurture")
    with pytest.raises(TemplateFault) as caught:
        t.check("nurture")
    assert str(caught.value).startswith("templates/nurture.md line 3:")


def test_a_template_without_a_subject_line_is_refused() -> None:
    with pytest.raises(TemplateFault, match=r"first line must be `Subject: \.\.\.`"):
        one("Hi there\n").check("t")


def test_an_unknown_template_is_named() -> None:
    with pytest.raises(TemplateFault, match=r"templates/nope\.md: no such template"):
        one("Subject: s\n\nx\n").check("nope")


@given(st.one_of(st.none(), st.just(float("nan")), st.just("")))
def test_blank_values_render_as_nothing(value: object) -> None:
    assert plain(value) == ""
    assert one("Subject: s\n\n[{{ v }}]\n").render("t", {"v": value}).text == "[]\n"


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_whole_numbers_have_no_decimal_point(n: int) -> None:
    assert plain(float(n)) == str(n)
    assert money(float(n)) == f"{n:,}"


@given(st.text())
def test_any_value_comes_out_of_the_text_part_unchanged(value: str) -> None:
    r = one("Subject: s\n\n<{{ v }}>\n").render("t", {"v": value})
    assert r.text == f"<{value}>\n"
