"""The sample workbook of `partners init`: realistic partners, dated relative to today.

On the day it is made, every action of RULES.md occurs at least once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from automations.core.engine.arrays import quarter_start
from automations.core.keys import quarter_label
from automations.core.messages import message_id
from automations.core.schema import LOG_COLUMNS, SURVEY_ITEMS

SENDER = "alex@rivera-consulting.example"
SENDER_NAME = "Alex Rivera"

# name, company, type, status, first_contact (days ago), fee %, cadence, do_not_email, tags, notes
PARTNERS: list[tuple[Any, ...]] = [
    (
        "Dana Whitfield",
        "Northwind Design",
        "agency",
        "active",
        420,
        10,
        None,
        False,
        "design",
        "Prefers calls on Tuesdays",
    ),
    (
        "Marcus Oyelaran",
        "Brightpath Dev",
        "complementary",
        "active",
        380,
        None,
        None,
        False,
        "dev",
        "",
    ),
    (
        "Zoë Ñúñez",
        "Ñúñez Consulting",
        "complementary",
        "active",
        300,
        10,
        None,
        False,
        "strategy",
        "Met at the Lisbon meetup",
    ),
    ("Priya Raman", "Stackwise", "platform", "contacted", 9, None, None, False, "marketplace", ""),
    ("Tom Becker", "Becker & Co", "vendor", "active", 700, None, None, False, "hosting", ""),
    ("Aiko Tanaka", "Kumo Studio", "agency", "active", 300, 5, None, False, "branding", ""),
    (
        "Lena Fischer",
        "Fischer Copy",
        "complementary",
        "active",
        80,
        None,
        30,
        False,
        "copywriting",
        "Asked for monthly check-ins",
    ),
    (
        "Rafael Costa",
        "Costa Analytics",
        "complementary",
        "contacted",
        200,
        None,
        None,
        False,
        "data",
        "",
    ),
    ("Sofia Marín", "Marín Legal", "vendor", "active", 400, None, None, False, "legal", ""),
    (
        "Jonas Weber",
        "Weber Ops",
        "agency",
        "paused",
        500,
        None,
        None,
        False,
        "ops",
        "On sabbatical until spring",
    ),
    (
        "Hannah Cole",
        "Cole Creative",
        "agency",
        "active",
        350,
        None,
        None,
        True,
        "video",
        "Asked not to get automated email",
    ),
    ("Omar Haddad", "Haddad Systems", "platform", "active", 260, None, None, False, "erp", ""),
    (
        "Grace Liu",
        "Liu Research",
        "complementary",
        "contacted",
        14,
        None,
        None,
        False,
        "ux research",
        "",
    ),
    (
        "Ben Adler",
        "Adler Labs",
        "other",
        "prospect",
        None,
        None,
        None,
        False,
        "ai",
        "Intro via Dana",
    ),
    ("Chloé Dubois", "Dubois Events", "community", "active", 240, None, None, False, "events", ""),
    ("Ivan Petrov", "Petrov Cloud", "vendor", "active", 500, None, None, False, "cloud", ""),
    ("Maya Goldberg", "Goldberg PR", "agency", "active", 400, None, None, False, "pr", ""),
    (
        "Samuel Okafor",
        "Okafor Finance",
        "complementary",
        "active",
        330,
        8,
        None,
        False,
        "finance",
        "",
    ),
    (
        "Elena Rossi",
        "Rossi Digital",
        "agency",
        "active",
        600,
        10,
        None,
        False,
        "seo",
        "Top partner 2025",
    ),
    ("Lucas Martin", "Martin Dev Shop", "agency", "active", 450, None, None, False, "dev", ""),
    (
        "Fatima Zahra",
        "Atlas Freelance Network",
        "platform",
        "active",
        520,
        12.5,
        None,
        False,
        "network",
        "",
    ),
    ("Noah Kim", "Kim Photo", "complementary", "faded", 900, None, None, False, "photo", ""),
    (
        "Isabel Torres",
        "Torres Translation",
        "vendor",
        "declined",
        120,
        None,
        None,
        False,
        "translation",
        "",
    ),
    (
        "Kwame Mensah",
        "Mensah Mobile",
        "complementary",
        "active",
        280,
        None,
        None,
        False,
        "mobile",
        "",
    ),
    (
        "Olivia Brandt",
        "Brandt Consulting",
        "complementary",
        "prospect",
        None,
        None,
        None,
        False,
        "ops",
        "",
    ),
    ("Yusuf Demir", "Demir Security", "vendor", "active", 380, None, None, False, "security", ""),
    (
        "Clara Nilsson",
        "Nordic Freelancers",
        "community",
        "active",
        200,
        None,
        None,
        False,
        "community",
        "",
    ),
    (
        "Diego Alvarez",
        "Alvarez Automation",
        "complementary",
        "contacted",
        40,
        None,
        None,
        False,
        "automation",
        "",
    ),
]

# partner index, days ago, direction, client, status, value, closed (days ago), fee_paid
REFERRALS: list[tuple[Any, ...]] = [
    (0, 20, "received", "Harbor Bakery", "new", 4800, None, None),  # stale: escalate (and thank)
    (0, 150, "received", "Pine Dental", "won", 9000, 120, 900),
    (0, 90, "given", "Sol Yoga", "won", None, None, None),
    (1, 3, "received", "Lumen Clinics", "new", 6500, None, None),  # thank
    (1, 200, "received", "Grove Apparel", "won", 7200, 170, None),
    (1, 160, "given", "Atlas Tours", "qualified", None, None, None),
    (2, 50, "received", "Vela Foods", "won", 12000, 6, None),  # outcome, fee owed
    (2, 140, "given", "Brisa Wines", "won", None, None, None),
    (4, 500, "received", "Old Mill Hotel", "lost", 3000, 470, None),  # fade: nothing in a year
    (5, 100, "received", "Koi Ramen", "won", 5400, 80, 270),
    (5, 60, "given", "Tide Surf School", "qualified", None, None, None),
    (8, 5, "received", "Ledger & Lane", "qualified", 8000, None, None),  # thanked 3 days ago
    (8, 210, "given", "Quill Publishing", "won", None, None, None),
    (14, 30, "received", "Bloom Florists", "won", 2500, 25, None),
    (15, 45, "given", "Nimbus Storage", "qualified", None, None, None),
    (16, 300, "received", "Crane Logistics", "won", 6000, 270, None),
    (16, 250, "received", "Fable Books", "lost", 2000, 220, None),
    (16, 200, "given", "Echo Audio", "won", None, None, None),
    (17, 40, "given", "Ridge Capital", "qualified", None, None, None),
    (17, 110, "received", "Summit Tax", "won", 15000, 95, 600),
    (18, 12, "received", "Beacon Health", "qualified", 22000, None, None),
    (18, 70, "received", "Cedar Homes", "won", 18000, 40, 1800),
    (18, 130, "received", "Delta Freight", "won", 9500, 100, 950),
    (18, 95, "given", "Opal Jewelry", "won", None, None, None),
    (18, 200, "given", "Fern Garden Co", "lost", None, None, None),
    (19, 35, "given", "Hatch Coffee", "won", None, None, None),
    (19, 180, "received", "Iris Optics", "lost", 4000, 150, None),
    (20, 25, "received", "Jade Spa", "contacted", 3500, None, None),
    (20, 220, "received", "Kite Travel", "won", 11000, 190, 1375),
    (20, 240, "given", "Lark Music", "won", None, None, None),
    (23, 150, "received", "Maple Dental", "won", 3800, 120, None),
    (25, 75, "given", "Nova Insurance", "qualified", None, None, None),
    (26, 140, "received", "Orbit Games", "lost", 2200, 110, None),
]

# partner index, days ago, kind, direction, notes
TOUCHES: list[tuple[Any, ...]] = [
    (0, 35, "call", "in", "Quarterly catch-up"),
    (1, 40, "meeting", "in", "Coffee in town"),
    (2, 20, "email", "in", "Asked about the fee"),
    (4, 420, "call", "in", "Last real conversation"),
    (5, 15, "call", "in", "Planning a joint pitch"),
    (6, 40, "meeting", "in", "Kick-off meeting"),
    (7, 190, "email", "out", "Sent intro deck"),
    (9, 160, "call", "in", ""),
    (15, 20, "call", "in", "Renewal chat"),
    (16, 100, "event", "in", "Met at a conference"),
    (17, 18, "meeting", "in", ""),
    (19, 25, "call", "in", ""),
    (20, 10, "meeting", "in", "Planned a webinar together"),
    (23, 30, "email", "in", ""),
    (25, 28, "call", "in", ""),
    (26, 200, "event", "in", "Community meetup"),
    (27, 35, "email", "out", "Sent a first note by hand"),
]


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
        if action in ("outreach", "follow_up", "nurture", "thank", "outcome", "survey")
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
        message_id((key,), SENDER) if key and status == "sent" else "",
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
            log.append(_log(at(days - 1), "thank", emails[i], f"thank:{emails[i]}:{date}", "sent"))
        if (
            direction == "received"
            and status in ("won", "lost")
            and closed is not None
            and closed <= 30
            and i != 2
        ):
            log.append(
                _log(at(closed - 1), "outcome", emails[i], f"outcome:{emails[i]}:{date}", "sent")
            )
        if status in ("new", "contacted") and 14 < days <= 60 and i != 0:
            log.append(
                _log(
                    at(days - 15),
                    "escalation",
                    emails[i],
                    f"escalation:{emails[i]}:{direction}:{date}",
                    "sent",
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
            "outreach",
            emails[3],
            f"campaign:platforms-2026:{emails[3]}",
            "sent",
            subject=f"Quick hello from {SENDER_NAME}",
        ),  # follow-up due
        _log(at(250), "nurture", emails[4], f"nurture:{emails[4]}:{ago(420)}", "sent"),  # fade
        _log(at(120), "nurture", emails[4], f"nurture:{emails[4]}:{ago(250)}", "sent"),
        _log(at(30), "bounce", emails[11], "", "bounce", "550 5.1.1 mailbox unavailable"),
        _log(at(12), "outreach", emails[12], f"campaign:research-2026:{emails[12]}", "sent"),
        _log(at(10), "reply", emails[12], "", "reply", "Happy to talk next week"),
        _log(at(36), "outreach", emails[27], f"campaign:automation-2026:{emails[27]}", "sent"),
        _log(at(29), "follow_up", emails[27], f"follow_up:{emails[27]}:{ago(36)}:1", "sent"),
        _log(at(3), "thank", emails[8], f"thank:{emails[8]}:{ago(5)}", "sent"),  # survey waits
    ]
    # Surveys already handled this quarter, so these partners get check-ins instead.
    for i in (15, 16, 17, 18, 19, 23, 25, 26):
        history.append(
            _log(q_at, "survey", emails[i], f"survey:{emails[i]}:{quarter}", "skipped", "baseline")
        )
    log.extend(history)
    return {
        "Partners": partners,
        "Referrals": referrals,
        "Touches": touches,
        "Survey": survey,
        "Log": log,
    }
