"""Value normalisation: every accepted form reads back as the value it was made from."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations import values as v

dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31))
MONTH = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def date_forms(day: dt.date) -> list[tuple[object, str]]:
    serial = (day - dt.date(1899, 12, 30)).days
    return [
        (day.isoformat(), "MDY"),
        (dt.datetime.combine(day, dt.time(13, 5)), "MDY"),
        (day, "MDY"),
        (serial, "MDY"),
        (float(serial) + 0.25, "MDY"),
        (f"{day.month}/{day.day}/{day.year}", "MDY"),
        (f"{day.day:02d}/{day.month:02d}/{day.year}", "DMY"),
        (f"{day.day}.{day.month}.{day.year}", "DMY"),
        (f"{day.year}/{day.month}/{day.day}", "YMD"),
        (f"{day.year}-{day.month:02d}-{day.day:02d}T10:00:00", "DMY"),
        (f"{day.day} {MONTH[day.month - 1]} {day.year}", "MDY"),
        (f"{MONTH[day.month - 1]} {day.day}, {day.year}", "DMY"),
        (f"  {day.isoformat()}  ", "MDY"),
    ]


@given(dates)
def test_a_date_in_every_accepted_form_reads_back(day: dt.date) -> None:
    for form, order in date_forms(day):
        assert v.parse_date(form, order) == day, (form, order)


@given(st.text(max_size=30))
def test_date_parsing_never_raises_anything_but_a_value_problem(text: str) -> None:
    with contextlib.suppress(v.ValueProblem):
        v.parse_date(text, "MDY")


def test_an_impossible_date_is_a_clear_problem() -> None:
    with pytest.raises(v.ValueProblem, match=r"'13/45/2026' is not a valid date"):
        v.parse_date("13/45/2026", "MDY")
    with pytest.raises(
        v.ValueProblem,
        match=r"'soon' is not a date \(write 2026-11-24 or 24/11/2026: dates are read day first, "
        r'set by \[sheet\] date_order = "DMY" in the config\)',
    ):
        v.parse_date("soon", "DMY")


amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)


@given(amounts)
def test_an_amount_in_every_accepted_form_reads_back(amount: object) -> None:
    number = float(amount)  # type: ignore[arg-type]
    forms = [
        number,
        f"{number:.2f}",
        f"{number:,.2f}",
        f"${number:,.2f}",
        f"€ {number:,.2f}",
        f"{number:,.2f} EUR",
    ]
    if number.is_integer():
        forms += [int(number), f"{int(number)}", f"{int(number):,}"]
    for form in forms:
        assert v.parse_amount(form) == pytest.approx(number), form


@given(st.text(max_size=20))
def test_amount_parsing_never_raises_anything_but_a_value_problem(text: str) -> None:
    with contextlib.suppress(v.ValueProblem):
        v.parse_amount(text)


@given(st.decimals(min_value=1, max_value=100, places=1))
def test_a_percent_in_every_accepted_form_reads_back_as_points(points: object) -> None:
    p = float(points)  # type: ignore[arg-type]
    forms: list[object] = [p, f"{p:g}", f"{p:g}%", f"{p:g} %"]
    if p < 100:
        forms.append(p / 100)  # a percent-formatted cell holds the fraction
    for form in forms:
        assert v.parse_percent(form) == pytest.approx(p), form


def test_a_number_below_one_is_a_fraction() -> None:
    assert v.parse_percent(0.5) == 50
    assert v.parse_percent("0.12") == pytest.approx(12)
    assert v.parse_percent("0.5%") == 0.5


@given(st.booleans(), st.sampled_from([str, str.lower, str.upper, str.title]))
def test_a_boolean_in_every_accepted_form_reads_back(flag: bool, case: object) -> None:
    words = ["TRUE", "yes", "y", "1", "x", "✓"] if flag else ["FALSE", "no", "n", "0", ""]
    for word in words:
        assert v.parse_bool(case(word)) is flag  # type: ignore[operator]
    assert v.parse_bool(flag) is flag
    assert v.parse_bool(int(flag)) is flag


def test_an_unknown_boolean_is_a_problem() -> None:
    with pytest.raises(v.ValueProblem, match="not a yes/no value"):
        v.parse_bool("maybe")


@given(
    st.sampled_from(["prospect", "contacted", "active", "paused", "faded", "declined"]),
    st.sampled_from([str, str.upper, str.title]),
)
def test_an_enumeration_matches_case_insensitively(status: str, case: object) -> None:
    allowed = ("prospect", "contacted", "active", "paused", "faded", "declined")
    assert v.parse_enum(f" {case(status)} ", allowed) == status  # type: ignore[operator]


def test_an_unknown_enumeration_names_the_allowed_values() -> None:
    with pytest.raises(
        v.ValueProblem, match="'sleeping' is not one of prospect, contacted, active"
    ):
        v.parse_enum("sleeping", ("prospect", "contacted", "active"))


def test_emails_are_trimmed_lowercased_and_checked_for_shape() -> None:
    assert v.parse_email("  Dana@Northwind.Example ") == "dana@northwind.example"
    with pytest.raises(v.ValueProblem, match="not an email address"):
        v.parse_email("dana at northwind")


@pytest.mark.parametrize("rating", [0, 10, 12, "12"])
def test_a_rating_outside_1_to_9_is_a_problem(rating: object) -> None:
    with pytest.raises(v.ValueProblem, match=r"outside 1–9"):
        v.parse_rating(rating)
