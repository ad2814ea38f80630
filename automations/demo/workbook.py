"""The sample workbook of `partners init`: realistic partners, dated relative to today.

On the day it is made, every action of RULES.md occurs at least once. The rows are in
`rows.py`; this module lays them out as tabs, with the history a user would have sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from automations.core.engine.arrays import quarter_start
from automations.core.keys import quarter_label
from automations.core.messages import message_id
from automations.core.schema import LOG_COLUMNS, SURVEY_ITEMS
from automations.core.vocabulary import Kind, Status
from automations.demo.rows import PARTNERS, REFERRALS, TOUCHES

SENDER = "alex@rivera-consulting.example"
SENDER_NAME = "Alex Rivera"


def _survey(
    partner: int, days_ago: int, ratings: list[int], respondent: str = ""
) -> tuple[Any, ...]:
    return (partner, days_ago, respondent, ratings)


SURVEY: list[tuple[Any, ...]] = [
    _survey(14, 20, [4, 2, 5, 3, 6, 5, 4, 3, 4, 5]),  # low: escalate
    _survey(18, 40, [9, 8, 9, 8, 8, 9, 8, 9, 8, 9]),
    _survey(18, 38, [8, 8, 7, 9, 8, 8, 5, 8, 4, 8], SENDER),  # our own view, for the report
    _survey(20, 120, [7, 7, 8, 6, 7, 8, 7, 6, 7, 7]),
    _survey(15, 200, [6, 7, 6, 7, 6, 6, 7, 6, 5, 6]),
]


def _log(
    when: dt.datetime,
    action: str,
    email: str,
    key: str,
    status: str,
    detail: str = "",
    subject: str = "",
) -> list[Any]:
    template = (
        action
        if action
        in (Kind.OUTREACH, Kind.FOLLOW_UP, Kind.NURTURE, Kind.THANK, Kind.OUTCOME, Kind.SURVEY)
        else ""
    )
    return [
        when.strftime("%Y-%m-%d %H:%M:%S"),
        "history",
        action,
        email,
        key,
        template,
        subject,
        message_id((key,), SENDER) if key and status == Status.SENT else "",
        status,
        detail,
    ]


def sample_sheet(today: dt.date) -> dict[str, list[list[Any]]]:
    """The sample workbook's tabs (header row first), dated relative to `today`."""

    def ago(n: int | None) -> dt.date | None:
        return None if n is None else today - dt.timedelta(days=n)

    def at(n: int) -> dt.datetime:
        return dt.datetime.combine(ago(n) or today, dt.time(9, 0))

    emails = [f"{p[0].split()[0].lower()}@{p[1].split()[0].lower()}.example" for p in PARTNERS]
    emails = [
        e.replace("ë", "e").replace("ñ", "n").replace("é", "e").replace("í", "i").replace("ú", "u")
        for e in emails
    ]
    partners: list[list[Any]] = [
        [
            "Name",
            "Email",
            "Company",
            "Type",
            "Status",
            "Owner",
            "First contact",
            "Referral fee %",
            "Cadence days",
            "Do not email",
            "Tags",
            "Notes",
        ]
    ]
    for p, email in zip(PARTNERS, emails, strict=True):
        name, company, kind, status, first, fee, cadence, dne, tags, notes = p
        partners.append(
            [name, email, company, kind, status, "", ago(first), fee, cadence, dne, tags, notes]
        )

    referrals: list[list[Any]] = [
        [
            "Date",
            "Direction",
            "Partner email",
            "Client",
            "Status",
            "Value",
            "Closed on",
            "Fee paid",
            "Notes",
        ]
    ]
    log: list[list[Any]] = [list(LOG_COLUMNS)]
    for i, days, direction, client, status, value, closed, paid in REFERRALS:
        referrals.append(
            [ago(days), direction, emails[i], client, status, value, ago(closed), paid, ""]
        )
        date = (ago(days) or today).isoformat()
        # History: the thank-yous and outcomes the user already sent for older referrals.
        if direction == "received" and 3 < days <= 30 and i not in (0,):
            log.append(
                _log(at(days - 1), Kind.THANK, emails[i], f"thank:{emails[i]}:{date}", Status.SENT)
            )
        if (
            direction == "received"
            and status in ("won", "lost")
            and closed is not None
            and closed <= 30
            and i != 2
        ):
            log.append(
                _log(
                    at(closed - 1),
                    Kind.OUTCOME,
                    emails[i],
                    f"outcome:{emails[i]}:{date}",
                    Status.SENT,
                )
            )
        if status in ("new", "contacted") and 14 < days <= 60 and i != 0:
            log.append(
                _log(
                    at(days - 15),
                    Kind.ESCALATION,
                    emails[i],
                    f"escalation:{emails[i]}:{direction}:{date}",
                    Status.SENT,
                )
            )

    touches: list[list[Any]] = [["Date", "Partner email", "Kind", "Direction", "Notes"]]
    for i, days, kind, direction, notes in TOUCHES:
        touches.append([ago(days), emails[i], kind, direction, notes])

    survey: list[list[Any]] = [["Timestamp", "Partner email", "Respondent", *SURVEY_ITEMS]]
    for i, days, respondent, ratings in SURVEY:
        survey.append([at(days), emails[i], respondent, *ratings])

    quarter = quarter_label(today)
    q_start = quarter_start(today)
    q_at = dt.datetime.combine(q_start, dt.time(9, 0))
    history = [
        _log(
            at(8),
            Kind.OUTREACH,
            emails[3],
            f"campaign:platforms-2026:{emails[3]}",
            Status.SENT,
            subject=f"Quick hello from {SENDER_NAME}",
        ),  # follow-up due
        _log(
            at(250), Kind.NURTURE, emails[4], f"nurture:{emails[4]}:{ago(420)}", Status.SENT
        ),  # fade
        _log(at(120), Kind.NURTURE, emails[4], f"nurture:{emails[4]}:{ago(250)}", Status.SENT),
        _log(at(30), Status.BOUNCE, emails[11], "", Status.BOUNCE, "550 5.1.1 mailbox unavailable"),
        _log(
            at(12), Kind.OUTREACH, emails[12], f"campaign:research-2026:{emails[12]}", Status.SENT
        ),
        _log(at(10), Status.REPLY, emails[12], "", Status.REPLY, "Happy to talk next week"),
        _log(
            at(36), Kind.OUTREACH, emails[27], f"campaign:automation-2026:{emails[27]}", Status.SENT
        ),
        _log(
            at(29), Kind.FOLLOW_UP, emails[27], f"follow_up:{emails[27]}:{ago(36)}:1", Status.SENT
        ),
        _log(
            at(3), Kind.THANK, emails[8], f"thank:{emails[8]}:{ago(5)}", Status.SENT
        ),  # survey waits
    ]
    # Surveys already handled this quarter, so these partners get check-ins instead.
    for i in (15, 16, 17, 18, 19, 23, 25, 26):
        history.append(
            _log(
                q_at,
                Kind.SURVEY,
                emails[i],
                f"survey:{emails[i]}:{quarter}",
                Status.SKIPPED,
                "baseline",
            )
        )
    log.extend(history)
    return {
        "Partners": partners,
        "Referrals": referrals,
        "Touches": touches,
        "Survey": survey,
        "Log": log,
    }
