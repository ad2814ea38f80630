"""Header matching, value normalisation in tables, and row validation."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.core.schema import SURVEY_ITEMS, TOUCH_KINDS
from automations.core.tables import RawSheet, build_tables, normalise_header
from automations.errors import SheetStructureError
from tests.conftest import TITLES, TODAY, Sheet


def test_headers_match_case_spaces_hyphens_and_underscores_alike() -> None:
    assert {
        normalise_header(h)
        for h in ("Partner Email", "partner_email", " PARTNER-EMAIL ", "Partner  _Email")
    } == {"partner_email"}


def _raw(**tabs: list[list[object]] | None) -> RawSheet:
    base: dict[str, list[list[object]] | None] = {
        "Partners": [["Name", "Email"], ["Dana", "dana@p.example"]],
        "Referrals": [["Date", "Direction", "Partner Email"]],
        "Touches": None,
        "Survey": None,
        "Log": None,
    }
    base.update({k.title(): v for k, v in tabs.items()})
    return RawSheet(base)  # type: ignore[arg-type]


def test_empty_and_header_only_tabs_mean_no_rows() -> None:
    header_only = [["Timestamp", "Partner email", *SURVEY_ITEMS]]
    tables = build_tables(_raw(touches=[], survey=header_only, log=[[]]), TODAY, TITLES)
    assert (len(tables.touches), len(tables.survey), len(tables.log)) == (0, 0, 0)
    assert tables.problems == []


def test_a_missing_required_column_of_partners_stops_the_run() -> None:
    with pytest.raises(SheetStructureError, match="Partners: required column email is missing"):
        build_tables(_raw(partners=[["Name"], ["Dana"]]), TODAY, TITLES)


def test_a_missing_required_column_of_touches_sets_the_tab_aside() -> None:
    tables = build_tables(_raw(touches=[["date"], ["2026-06-01"]]), TODAY, TITLES)
    assert [str(p) for p in tables.problems] == [
        "Touches partner_email: required column partner_email is missing (the header row is row 1); tab set aside"
    ]
    assert tables.problems[0].severity == "warning"


def test_ragged_rows_are_padded_and_extra_columns_kept_under_their_normalised_name() -> None:
    raw = _raw(
        partners=[
            ["Name", "Email", "Status", "Favourite Snack"],
            ["Dana", "dana@p.example"],
            ["Lee", "lee@p.example", "Active", "Pretzels"],
        ]
    )
    tables = build_tables(raw, TODAY, TITLES)
    assert tables.problems == []
    assert list(tables.partners["status"]) == ["prospect", "active"]
    assert list(tables.partners["favourite_snack"]) == ["", "Pretzels"]
    assert list(tables.partners["row"]) == [2, 3]


@pytest.mark.parametrize("header", ["Row", " row ", "Problem"])
def test_a_column_headed_like_one_the_toolkit_adds_is_a_warning_and_the_rest_is_read(
    header: str,
) -> None:
    raw = _raw(
        partners=[["Name", "Email", header], ["Dana", "dana@p.example", 7]],
        referrals=[["Date", "Direction", "Partner Email", header], ["2026-06-01", "in", "d", 9]],
    )
    tables = build_tables(raw, TODAY, TITLES)
    name = header.strip()
    assert [str(p) for p in tables.problems if p.column == name] == [
        f"{tab} {name}: column {name!r} is not read: the toolkit keeps a "
        f"{normalise_header(name)!r} of its own; rename the column (for example "
        f"{name + ' note'!r}) to use it in templates"
        for tab in ("Partners", "Referrals")
    ]
    assert list(tables.partners["email"]) == ["dana@p.example"]
    assert list(tables.partners["row"]) == [2]  # the sheet's own row number


def test_blank_rows_in_the_middle_are_skipped_but_row_numbers_stay_true() -> None:
    raw = _raw(
        partners=[
            ["Name", "Email"],
            ["Dana", "dana@p.example"],
            [],
            [None, "  "],
            ["Lee", "bad-email"],
        ]
    )
    tables = build_tables(raw, TODAY, TITLES)
    assert next(str(p) for p in tables.problems).startswith(
        "Partners!5 email: 'bad-email' is not an email address"
    )


def test_survey_columns_map_form_questions_to_items() -> None:
    s = Sheet().partner()
    raw = s.raw()
    header = raw.tabs["Survey"][0]  # type: ignore[index]
    header[4] = "Are they open about pricing, updates and bad news?"
    raw.tabs["Survey"].append(["2026-06-01", "pat@partner.example", "", *[5] * 10])  # type: ignore[union-attr]
    tables = build_tables(
        raw,
        TODAY,
        TITLES,
        survey_columns={"Are they open about pricing, updates and bad news?": "transparency"},
    )
    assert tables.problems == []
    assert tables.survey["transparency"].tolist() == [5.0]


def test_text_dates_follow_the_sheet_date_order() -> None:
    s = Sheet().partner()
    s.referrals.append(
        ["03/04/2026", "received", "pat@partner.example", "", "won", "", "05/04/2026", ""]
    )
    mdy = build_tables(s.raw(), TODAY, TITLES, date_order="MDY").referrals
    dmy = build_tables(s.raw(), TODAY, TITLES, date_order="DMY").referrals
    assert mdy["date"][0].date() == dt.date(2026, 3, 4)
    assert dmy["date"][0].date() == dt.date(2026, 4, 3)


@given(st.integers(min_value=1, max_value=3000))
def test_a_date_in_the_future_is_a_row_error(days_ahead: int) -> None:
    s = Sheet().partner()
    when = TODAY + dt.timedelta(days=days_ahead)
    s.touches.append([when.isoformat(), "pat@partner.example", "call", "in"])
    tables = s.tables()
    assert [str(p) for p in tables.problems] == [
        f"Touches!2 date: {when.isoformat()} is in the future (today is {TODAY.isoformat()})"
    ]
    assert tables.blocked == {"pat@partner.example": "fix Touches!2 date"}


@pytest.mark.parametrize(
    ("tab", "column", "value", "far"),
    [
        ("partners", "first_contact", "0001-01-01", "back"),
        ("partners", "first_contact", dt.date(1, 1, 1), "back"),
        ("referrals", "date", "1600-05-01", "back"),
        ("referrals", "closed_on", "9999-12-31", "ahead"),
        ("touches", "date", dt.datetime(9999, 12, 31, 10, 0), "ahead"),
        ("survey", "timestamp", "9999-12-31 10:00:00", "ahead"),
        ("survey", "timestamp", "0001-01-01", "back"),
    ],
)
def test_a_date_the_tables_cannot_hold_is_a_row_error_naming_the_cell(
    tab: str, column: str, value: object, far: str
) -> None:
    s = Sheet().partner().referral(40, status="won", closed=30).touch(20).response(10, [5] * 10)
    rows = getattr(s, tab)
    header = s.raw().tabs[tab.title()]
    assert header is not None
    rows[0][header[0].index(column)] = value
    tables = s.tables()
    day = value.date() if isinstance(value, dt.datetime) else value
    day = day.isoformat() if isinstance(day, dt.date) else str(day)[:10]
    assert [str(p) for p in tables.problems] == [
        f"{tab.title()}!2 {column}: {day} is too far {far} (the toolkit reads dates from "
        "1677-09-22 to 2262-04-10); check the year"
    ]
    if tab != "partners":  # a Partners row with an error is itself skipped
        assert tables.blocked == {"pat@partner.example": f"fix {tab.title()}!2 {column}"}


@given(
    st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=12).filter(
        lambda t: t.strip().lower() not in TOUCH_KINDS
    )
)
def test_an_unknown_enumeration_is_a_row_error_naming_the_allowed_ones(kind: str) -> None:
    s = Sheet().partner()
    s.touches.append(["2026-06-01", "pat@partner.example", kind, "in"])
    problems = s.tables().problems
    assert len(problems) == 1
    assert str(problems[0]).startswith("Touches!2 kind: ")
    assert str(problems[0]).endswith(
        "is not one of call, meeting, email, event, reply, statement, other"
    )


def test_a_won_received_referral_without_closed_on_is_a_warning_and_kept() -> None:
    s = Sheet().partner().referral(40, status="won")
    tables = s.tables()
    assert [p.severity for p in tables.problems] == ["warning"]
    assert str(tables.problems[0]) == (
        "Referrals!2 closed_on: referral is won but closed_on is blank: add the date it closed so its "
        "outcome can be shared"
    )
    assert len(tables.referrals) == 1


def test_a_sheet_without_a_partners_tab_stops_the_run() -> None:
    with pytest.raises(SheetStructureError, match="tab 'Partners' not found in the sheet"):
        build_tables(_raw(partners=None), TODAY, TITLES)


def test_survey_timestamps_with_a_zone_and_text_log_times_are_read_not_fatal() -> None:
    # Issue 10, item 3: `Z` stopped every command; a text date-time in the Log was refused.
    from automations.core.schema import LOG_COLUMNS

    sheet = Sheet().partner()
    sheet.survey.append(["2026-06-01T10:00:00Z", "pat@partner.example", "", *[7] * 10])
    sheet.survey.append(["6/2/2026 9:00:00", "pat@partner.example", "", *[8] * 10])
    raw = sheet.raw()
    log = raw.tabs["Log"]
    assert log is not None
    row = dict.fromkeys(LOG_COLUMNS, "")
    row |= {"timestamp": "6/3/2026 14:03:22", "action": "thank", "status": "sent"}
    row |= {"partner_email": "pat@partner.example", "key": "thank:pat@partner.example:x"}
    log.append([row[c] for c in LOG_COLUMNS])
    tables = build_tables(raw, TODAY, TITLES, date_order="MDY", zone=dt.UTC)
    assert [p for p in tables.problems if p.severity == "error"] == []
    assert list(tables.survey["timestamp"].dt.hour) == [10, 9]
    assert tables.log["timestamp"].iloc[0].date() == dt.date(2026, 6, 3)


@pytest.mark.parametrize(
    ("first", "second"), [("Partner Email", "Partner Email"), ("Partner Email", "partner_email")]
)
def test_a_second_column_of_a_header_already_taken_is_a_warning_naming_both_columns(
    first: str, second: str
) -> None:
    raw = _raw(
        partners=[["Name", "Email"], ["Dana", "dana@p.example"]],
        referrals=[
            ["Date", "Direction", first, second],
            ["2026-06-01", "in", "dana@p.example", "other@p.example"],
        ],
    )
    tables = build_tables(raw, TODAY, TITLES)
    name = normalise_header(first)
    assert [str(p) for p in tables.problems if p.column == second] == [
        f"Referrals {second}: column D is not read: column C ({first!r}) has the same header "
        f"once matched ({name!r}) and is read; rename one of them, or merge them into one"
    ]


def test_an_unsubscribe_whose_time_cannot_be_read_still_blocks_the_address_with_a_warning() -> None:
    # The row was skipped, so someone who had unsubscribed was emailed again.
    raw = _raw(
        unsubscribes=[
            ["Timestamp", "Email"],
            ["yesterday", "dana@p.example"],
            ["2026-06-01", "lee@p.example"],
        ]
    )
    tables = build_tables(raw, TODAY, {**TITLES, "unsubscribes": "Unsubscribes"})
    assert sorted(tables.unsubscribes["email"]) == ["dana@p.example", "lee@p.example"]
    (problem,) = [p for p in tables.problems if p.tab == "Unsubscribes"]
    assert problem.severity == "warning"
    assert str(problem).startswith("Unsubscribes!2 timestamp: 'yesterday' is not a date")
    assert str(problem).endswith("; the address is blocked all the same, as of today")
