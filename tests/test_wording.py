"""What partners read: every shipped partner template, rendered for the demo sheet and for
the edge cases of EMAIL.md ("Written as a person would write it"), read as a person would."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.core.engine.decide import decide
from automations.core.engine.decisions import DecideOptions
from automations.core.engine.rules import Rules
from automations.core.mail.drafting import drafts
from automations.core.mail.letterhead import Letterhead, Sender
from automations.core.mail.partner import partner_facts
from automations.core.render import Rendered, paragraphs
from automations.core.tables import RawSheet, build_tables
from automations.core.vocabulary import PARTNER_KINDS
from automations.core.wording import exchange, names, on_day, opening, quarter_name, when
from automations.demo.workbook import SENDER, sample_sheet
from tests.conftest import TITLES
from tests.test_render import shipped

TODAY = dt.date(2026, 12, 2)
LETTERHEAD = Letterhead(
    Sender(
        "Alex Rivera",
        "alex@rivera.example",
        pitch="I set up websites, online booking and payments for small businesses.",
    )
)
PARTNER = {"name": "Dana Whitfield", "email": "dana@northwind.example", "company": "Northwind"}


def referral(client: str, day: dt.date, status: str = "new") -> dict[str, Any]:
    return {"client": client, "date": day, "status": status, "direction": "received"}


HARBOR = referral("Harbor Bakery", dt.date(2026, 11, 12))
KOI = referral("Koi Ramen", dt.date(2026, 11, 20))


class Page(HTMLParser):
    """The HTML part's list items and paragraphs, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.lists: list[int] = []
        self.quotes: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._open.append(tag)
        if tag == "li":
            self.items.append("")
            self.lists[-1] += 1
        if tag in ("ul", "ol"):
            self.lists.append(0)
        if tag == "blockquote":
            self.quotes.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "li" in self._open:
            self.items[-1] += data
        if "blockquote" in self._open:
            self.quotes[-1] += data


def page_of(rendered: Rendered) -> Page:
    page = Page()
    page.feed(rendered.html)
    return page


def render(kind: str, **context: Any) -> Rendered:
    referrals = context.pop("referrals", [])
    health = context.pop("health", {})
    facts = partner_facts(PARTNER, health, referrals, LETTERHEAD, TODAY)
    facts.update(context)
    return shipped().render(kind, facts)


def reads_like_a_person(rendered: Rendered) -> None:
    """What no partner email may hold, whatever the case (EMAIL.md)."""
    for part in (rendered.subject, rendered.text):
        assert not re.search(r"\d{4}Q\d|\d{4}-W\d\d", part), part  # periods as people say them
        assert not re.search(r"\(\s*\d{1,2} \w+ \d{4}\s*\)|\(\d{4}-\d\d-\d\d\)", part), part
        assert not re.search(r"\b0 \w+|\bno \w+ and I sent you", part), part  # no count of zero
    assert "**" not in rendered.text and "__" not in rendered.text
    page = page_of(rendered)
    assert all(count != 1 for count in page.lists), "a one-item list is a sentence"
    for item in page.items:  # no closing sentence inside a list item
        assert "\n" not in item.strip() and not re.search(r"[.!?]\s+\S", item), item


def flowing(text: str) -> str:
    return " ".join(text.split())


def test_one_referral_is_a_sentence_and_the_subject_is_singular() -> None:
    r = render("thank", referrals=[HARBOR])
    reads_like_a_person(r)
    assert r.subject == "Thank you for introducing me to Harbor Bakery"
    assert "Thank you for introducing me to Harbor Bakery on 12 November." in flowing(r.text)
    assert not page_of(r).items


def test_several_referrals_are_a_list_and_subject_and_body_agree_in_number() -> None:
    r = render("thank", referrals=[HARBOR, KOI])
    reads_like_a_person(r)
    assert r.subject == "Thank you for the introductions"
    assert page_of(r).items == ["Harbor Bakery on 12 November", "Koi Ramen on 20 November"]
    text = flowing(r.text)
    assert "take good care of them and let you know how they go" in text
    assert "I really appreciate it." in text  # the closing paragraph, after the list


def test_an_outcome_with_only_wins_thanks_and_says_no_either_way() -> None:
    r = render("outcome", referrals=[{**HARBOR, "status": "won"}])
    reads_like_a_person(r)
    assert r.subject == "Good news about Harbor Bakery"
    assert "Harbor Bakery and I are working together now" in flowing(r.text)
    assert "Either way" not in r.text


def test_an_outcome_with_only_losses_says_so_gently() -> None:
    r = render("outcome", referrals=[{**HARBOR, "status": "lost"}])
    reads_like_a_person(r)
    assert r.subject == "An update on Harbor Bakery"
    text = flowing(r.text)
    assert "with Harbor Bakery it didn't turn into a project this time. Either way" in text
    assert "working together" not in text


def test_a_mixed_outcome_names_the_won_referral_first() -> None:
    r = render(
        "outcome",
        referrals=[{**HARBOR, "status": "lost"}, {**KOI, "status": "won"}],
    )
    reads_like_a_person(r)
    assert r.subject == "Good news about Koi Ramen, and an update on Harbor Bakery"
    text = flowing(r.text)
    assert text.index("Koi Ramen and I are working together") < text.index("With Harbor Bakery")


def test_several_losses_agree_in_number() -> None:
    r = render("outcome", referrals=[{**HARBOR, "status": "lost"}, {**KOI, "status": "lost"}])
    reads_like_a_person(r)
    assert r.subject == "An update on Harbor Bakery and Koi Ramen"
    assert "Harbor Bakery and Koi Ramen didn't turn into projects" in flowing(r.text)


def test_a_check_in_says_since_we_last_spoke_only_after_the_partner_engaged() -> None:
    spoke = render("nurture", health={"last_inbound": dt.date(2026, 5, 20)})
    reads_like_a_person(spoke)
    assert "since we last spoke, back in May" in flowing(spoke.text)
    never = render("nurture", health={"last_email": dt.date(2026, 5, 26)})
    reads_like_a_person(never)
    assert "since we last spoke" not in never.text and "May" not in never.text


def test_a_check_in_after_our_own_unanswered_one_is_a_gentle_note() -> None:
    r = render("nurture", health={"last_email": dt.date(2026, 9, 1), "unanswered": 1})
    reads_like_a_person(r)
    text = flowing(r.text)
    assert "No need to reply if things are busy." in text
    assert "since we last spoke" not in text and "How are things at" not in text
    assert "I still think of Northwind when a client needs what you do" in text


def test_a_survey_after_a_quarter_without_exchange_claims_nothing() -> None:
    quarter = {"label": "2026Q3", "received": 0, "given": 0, "won": 0, "lost": 0, "open": 0}
    r = render("survey", quarter={**quarter, **exchange(quarter, TODAY)})
    reads_like_a_person(r)
    assert "exchange" not in r.text and "July" not in r.text


def test_a_survey_names_the_quarter_and_leaves_out_zero_counts() -> None:
    quarter = {"label": "2026Q3", "received": 2, "given": 0, "won": 1, "open": 1}
    quarter |= {"clients": ["Harbor Bakery", "Koi Ramen"]}
    r = render("survey", quarter={**quarter, **exchange(quarter, TODAY)})
    reads_like_a_person(r)
    assert (
        "From July to September, you sent me two clients (Harbor Bakery and Koi Ramen); "
        "one became a project and one is still open." in flowing(r.text)
    )
    assert "I sent you" not in r.text


def test_a_survey_about_an_open_escalated_referral_does_not_say_we_exchanged_none() -> None:
    quarter = {"label": "2026Q3", "received": 1, "open": 1, "clients": ["Harbor Bakery"]}
    r = render("survey", quarter={**quarter, **exchange(quarter, TODAY)})
    reads_like_a_person(r)
    text = flowing(r.text)
    assert "you sent me one client (Harbor Bakery); one is still open." in text
    assert "did not exchange" not in text


def test_a_follow_up_says_when_the_first_note_went_and_quotes_it() -> None:
    sent = dt.date(2026, 11, 24)
    r = render(
        "follow_up",
        health={"outreach_day": sent},
        outreach={
            "date": sent,
            "on": on_day(sent, TODAY),
            "when": when(sent, TODAY),
            "opening_lines": ["I'm Alex Rivera. I set up websites."],
        },
    )
    reads_like_a_person(r)
    text = flowing(r.text)
    assert "I wrote to you on 24 November" in text and "last week" not in text
    assert "On 24 November, Alex Rivera wrote: > I'm Alex Rivera. I set up websites." in text
    assert page_of(r).quotes and "I set up websites" in page_of(r).quotes[0]


def test_a_follow_up_a_few_days_on_names_the_weekday() -> None:
    sent = dt.date(2026, 11, 27)  # a Friday
    r = render("follow_up", outreach={"when": when(sent, TODAY), "opening_lines": []})
    assert "I wrote to you on Friday" in flowing(r.text)


def test_the_outreach_says_what_the_sender_does_from_the_pitch() -> None:
    r = render("outreach")
    reads_like_a_person(r)
    assert (
        "I'm Alex Rivera. I set up websites, online booking and payments for small businesses."
        in flowing(r.text)
    )


def test_every_partner_email_of_the_demo_reads_like_a_person_wrote_it() -> None:
    tables = build_tables(RawSheet(dict(sample_sheet(TODAY))), TODAY, TITLES, zone=dt.UTC)
    rules = Rules()
    decisions = decide(
        tables, TODAY, rules, DecideOptions(sender_email=SENDER, survey_enabled=True)
    )
    made = [d for d in drafts(tables, decisions, LETTERHEAD, TODAY) if d.kind in PARTNER_KINDS]
    assert {d.kind for d in made} >= {"thank", "outcome", "survey", "nurture", "follow_up"}
    templates = shipped()
    for draft in made:
        reads_like_a_person(templates.render(draft.template, draft.context))


@pytest.mark.parametrize("kind", ["outreach", "follow_up", "nurture", "thank", "outcome"])
def test_a_paragraph_after_a_block_stays_a_paragraph(kind: str) -> None:
    r = render(kind, referrals=[HARBOR, {**KOI, "status": "won"}])
    assert "Best,\nAlex Rivera" in r.text
    assert re.search(r"\S\n\nBest,", r.text), r.text  # the sign-off is its own paragraph


def test_a_users_template_keeps_a_paragraph_after_a_line_ending_in_a_tag() -> None:
    from tests.test_render import one

    source = (
        "Subject: s\n\nThanks{% if x %} for {{ x }}{% endif %}\n\nNext words.\n"
        "{% for r in rs %}\n- {{ r }}\n\n{% endfor %}\nClosing words.\n"
    )
    r = one(source).render("t", {"x": "all", "rs": ["a", "b"]})
    assert r.text == "Thanks for all\n\nNext words.\n\n- a\n- b\n\nClosing words.\n"
    page = Page()
    page.feed(r.html)
    assert page.items == ["a", "b"]


@given(st.lists(st.text(alphabet="ab -\n", max_size=8), max_size=8))
def test_paragraphs_never_lose_or_reorder_words(lines: list[str]) -> None:
    source = "\n".join(lines)
    assert paragraphs(source).split() == source.split()


def test_names_and_quarters_read_as_said() -> None:
    assert names(["A"]) == "A" and names(["A", "B", "C"]) == "A, B and C"
    assert quarter_name("2026Q3", TODAY) == "July to September"
    assert quarter_name("2024Q3", TODAY) == "July to September 2024"
    assert on_day(dt.date(2025, 3, 1), TODAY) == "on 1 March 2025"


def test_the_opening_quoted_leaves_out_greeting_and_sign_off() -> None:
    text = "Hi Priya,\n\nI'm Alex. I build sites.\n\nWould you be up for a call?\n\nBest,\nAlex\n"
    assert opening(text) == "I'm Alex. I build sites.\n\nWould you be up for a call?"


BLANKS = st.sampled_from([None, float("nan"), __import__("pandas").NaT, ""])


@given(
    last_inbound=st.one_of(BLANKS, st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1))),
    action=st.sampled_from(["none", "blocked", "nurture", "thank", "fix row"]),
)
def test_a_withdraw_reason_is_said_whatever_is_blank_in_the_partners_health_row(
    last_inbound: Any, action: str
) -> None:
    # Issue 23: a partner without any inbound (NaT in Health) stopped a campaign run with
    # `Cannot compare NaT with datetime.date`; every blank must read as blank.
    from automations.core.review import Proposal, withdraw_reason

    proposal = Proposal(
        ident="<pa.1@x.example>",
        keys=("campaign:c:pat@partner.example",),
        kind="outreach",
        template="outreach",
        partners=("pat@partner.example",),
        to_email="pat@partner.example",
        to_name="Pat",
        owner="",
        subject="Hello",
        preview="",
        why="",
        proposed_at="2026-06-01T09:00:00+00:00",
    )
    health = {"last_inbound": last_inbound, "action": action, "reason": "why"}
    said = withdraw_reason(health, proposal, dt.date(2026, 6, 15))
    known = isinstance(last_inbound, dt.date) and last_inbound == last_inbound  # NaT is a date
    replied = known and last_inbound >= dt.date(2026, 6, 1)
    assert said.startswith("the partner replied") is replied


@pytest.mark.parametrize(
    ("row", "hello"),
    [
        ({"name": "Dr. Dana Whitfield"}, "Dana"),
        ({"name": "Prof Ute Berg"}, "Ute"),
        ({"name": "Herr Jonas Weber"}, "Jonas"),
        ({"name": "Frau Dr. Anna Vogel"}, "Anna"),
        ({"name": "Sra. Lucía Pérez"}, "Lucía"),
        ({"name": "M. Jean Martin"}, "Jean"),
        ({"name": "Mme Claire Dubois"}, "Claire"),
        ({"name": "Dr. Whitfield"}, ""),
        ({"name": "Cher"}, ""),
        ({"name": "Studio Nord Design"}, ""),
        ({"name": "Pixel Team"}, ""),
        ({"name": "Brightside Ltd"}, ""),
        ({"name": "Northwind", "company": "Northwind"}, ""),
        ({"name": "Northwind Partners", "company": "northwind partners"}, ""),
        ({"name": "山田 太郎"}, ""),
        ({"name": "山田 太郎", "first_name": "Taro"}, "Taro"),
        ({"name": "Beatrix Kiddo", "preferred_name": "Bea"}, "Bea"),
        ({"name": "Dr. Dana Whitfield", "first_name": "Dr. Dana"}, "Dr. Dana"),
    ],
)
def test_a_partner_is_greeted_by_first_name_or_hi_there_with_no_name_in_the_subject(
    row: dict[str, str], hello: str
) -> None:
    partner = {"email": "x@partner.example", "company": "", **row}
    engaged = {"last_inbound": dt.date(2026, 5, 20)}
    facts = partner_facts(partner, engaged, [HARBOR], LETTERHEAD, TODAY)
    facts["quarter"] = {"label": "2026Q3", **exchange({"label": "2026Q3"}, TODAY)}
    for kind in ("nurture", "thank", "survey", "follow_up"):
        r = shipped().render(kind, facts)
        assert f"Hi {hello or 'there'}," in r.text.splitlines()[0], (kind, r.text)
    subject = shipped().render("nurture", facts).subject
    assert subject == (f"How are things, {hello}?" if hello else "How are things?")


def test_the_last_note_to_a_cold_prospect_is_honest_and_asks_for_nothing() -> None:
    r = render(
        "nurture",
        health={"last_note": True, "unanswered": 2, "outreach_day": dt.date(2026, 5, 12)},
    )
    reads_like_a_person(r)
    text = flowing(r.text)
    assert r.subject == "Closing the loop"
    assert "I wrote to you on 12 May about working together" in text
    assert "I won't write again unless you do." in text
    assert "I still think of" not in text and "How are things" not in text
    # "I won't write again" and then "Rather not get these notes?" would contradict it.
    assert "unsubscribe" not in text.lower()


def masked(text: str) -> str:
    """A body with names, dates and numbers masked, to compare two emails' words."""
    text = re.sub(r"\b\d[\d,.:]*\b", "#", text)
    text = re.sub(
        r"\b(January|February|March|April|May|June|July|August|September|"
        r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|"
        r"Saturday|Sunday)\b",
        "D",
        text,
    )
    return re.sub(r"\b[A-Z][a-z]+\b", "N", text)


def alike(a: str, b: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, masked(a), masked(b)).ratio()


@pytest.mark.parametrize(
    ("kind", "health"),
    [
        ("nurture", {"last_inbound": dt.date(2026, 5, 20)}),
        ("nurture", {"last_inbound": dt.date(2026, 11, 20), "cadence": 45}),
        ("nurture", {"last_email": dt.date(2026, 9, 1), "unanswered": 1}),
        ("nurture", {"last_email": dt.date(2026, 11, 1)}),
        ("survey", {}),
    ],
)
def test_no_two_of_twelve_emails_of_a_kind_in_a_row_are_90_percent_alike(
    kind: str, health: dict[str, Any]
) -> None:
    count = "checkins_sent" if kind == "nurture" else "surveys_sent"
    quarter = {"label": "2026Q3", **exchange({"label": "2026Q3"}, TODAY)}
    bodies = [render(kind, health={**health, count: n}, quarter=quarter).text for n in range(12)]
    for i, a in enumerate(bodies):
        for b in bodies[i + 1 :]:
            assert alike(a, b) < 0.9, (a, b)


def test_a_check_in_after_the_partner_answered_acknowledges_it_and_does_not_say_a_while() -> None:
    health = {"last_inbound": dt.date(2026, 11, 20), "last_email": dt.date(2026, 10, 1)}
    r = render("nurture", health={**health, "cadence": 45})
    reads_like_a_person(r)
    text = flowing(r.text)
    assert "It was good to hear from you on 20 November" in text
    assert "while" not in text


def test_the_ask_for_a_kind_of_client_is_not_repeated_within_a_quarter() -> None:
    asked = render("nurture", health={"last_email": dt.date(2026, 10, 1)})
    assert "kind of client" not in asked.text and "type of client" not in asked.text
    long_ago = render("nurture", health={"last_email": dt.date(2026, 6, 1)})
    assert "kind of client" in long_ago.text


def test_a_survey_after_a_low_rating_acknowledges_it() -> None:
    quarter = {"label": "2026Q3", **exchange({"label": "2026Q3"}, TODAY)}
    r = render("survey", health={"survey_avg": 4.2}, quarter=quarter)
    assert "Last time your ratings told me some things weren't working for you" in flowing(r.text)
    fine = render("survey", health={"survey_avg": 8.0}, quarter=quarter)
    assert "Last time" not in fine.text


def test_an_outcome_states_the_referral_fee_when_one_is_agreed() -> None:
    won = {**referral("Harbor Bakery", dt.date(2026, 9, 12), "won"), "value": 12000}
    partner = {**PARTNER, "referral_fee_pct": 10}
    r = shipped().render("outcome", partner_facts(partner, {}, [won], LETTERHEAD, TODAY))
    reads_like_a_person(r)
    assert "As agreed, your referral fee is 10%, which comes to $12,000" not in r.text
    assert "As agreed, your referral fee is 10%, which comes to $1,200." in flowing(r.text)
    none = shipped().render("outcome", partner_facts(PARTNER, {}, [won], LETTERHEAD, TODAY))
    assert "fee" not in none.text
    # Never a promise the sheet does not back: no "once the client has paid me", and a fee
    # the sheet shows paid in full is said to be paid.
    assert "once the client has paid" not in r.text
    paid = {**won, "fee_paid": 1200}
    settled = shipped().render("outcome", partner_facts(partner, {}, [paid], LETTERHEAD, TODAY))
    assert "Your 10% referral fee for it is already paid, as agreed." in flowing(settled.text)
    assert "on its way" not in settled.text


def test_a_follow_up_puts_the_opt_out_line_before_the_signature() -> None:
    r = render("follow_up", health={"outreach_day": dt.date(2026, 11, 24)})
    lines = [line for line in r.text.splitlines() if line.strip()]
    assert lines.index("If this isn't for you, reply \"unsubscribe\" and I won't write again.") < (
        lines.index("Best,")
    )
