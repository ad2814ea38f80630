"""The tabs the toolkit reads: their columns, value kinds, choices and checks (SHEET.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from automations.core.vocabulary import LOG_STATUSES

SURVEY_ITEMS = (
    "strategic_asset",
    "transparency",
    "incentives",
    "relationship_owner",
    "shared_goals",
    "pilot",
    "protocol",
    "feedback",
    "quarterly_review",
    "problem_response",
)
# Each survey item as an owner reads it in an escalation ("lowest 2, for feedback").
ITEM_WORDS = {
    "strategic_asset": "being treated as a strategic asset",
    "transparency": "transparency",
    "incentives": "fair incentives",
    "relationship_owner": "a clear owner on both sides",
    "shared_goals": "shared goals",
    "pilot": "starting small",
    "protocol": "the handoff of referred clients",
    "feedback": "feedback both ways",
    "quarterly_review": "quarterly reviews",
    "problem_response": "handling problems together",
}
PARTNER_TYPES = ("complementary", "agency", "platform", "vendor", "community", "other")
PARTNER_STATUSES = ("prospect", "contacted", "active", "paused", "faded", "declined")
REFERRAL_STATUSES = ("new", "contacted", "qualified", "won", "lost")
# `statement`: the owner settled a disputed statement (RULES.md, Statements).
TOUCH_KINDS = ("call", "meeting", "email", "event", "reply", "statement", "other")
LOG_COLUMNS = (
    "timestamp",
    "run_id",
    "action",
    "partner_email",
    "key",
    "template",
    "subject",
    "message_id",
    "status",
    "detail",
)
DAY_ZERO = np.datetime64("1970-01-01", "D")
# The tables hold dates as datetime64[ns], which spans 1677-09-22 to 2262-04-11: a date
# outside would wrap round silently (9999-12-31 would read as a day in 1816).
FIRST_DAY = dt.date(1677, 9, 22)
LAST_DAY = dt.date(2262, 4, 10)
# snooze_until after LAST_DAY, or a word in FOREVER_WORDS: the partner waits indefinitely.
FOREVER_WORDS = ("never", "forever", "indefinitely")


@dataclass(frozen=True)
class Column:
    """One known column of a tab: its kind, whether the tab needs it, its default."""

    name: str
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None


def _items() -> list[Column]:
    return [Column(item, "rating", required=True) for item in SURVEY_ITEMS]


SCHEMAS: dict[str, list[Column]] = {
    "partners": [
        Column("name", "text", required=True),
        Column("first_name", "text"),
        Column("preferred_name", "text"),
        Column("email", "email", required=True),
        Column("company", "text"),
        Column("type", "enum", choices=PARTNER_TYPES, default=""),
        Column("status", "enum", choices=PARTNER_STATUSES, default="prospect"),
        Column("owner", "email"),
        Column("first_contact", "date"),
        Column("referral_fee_pct", "percent"),
        Column("cadence_days", "whole"),
        Column("do_not_email", "bool"),
        Column("snooze_until", "until"),
        Column("tags", "text"),
        Column("notes", "text"),
    ],
    "referrals": [
        Column("date", "date", required=True),
        Column("direction", "enum", required=True, choices=("received", "given")),
        Column("partner_email", "email", required=True),
        Column("client", "text"),
        Column("status", "enum", choices=REFERRAL_STATUSES, default="new"),
        Column("value", "amount"),
        Column("closed_on", "date"),
        Column("fee_paid", "amount"),
        Column("notes", "text"),
    ],
    "touches": [
        Column("date", "date", required=True),
        Column("partner_email", "email", required=True),
        Column("kind", "enum", choices=TOUCH_KINDS, default="other"),
        Column("direction", "enum", choices=("in", "out"), default="in"),
        Column("notes", "text"),
    ],
    "survey": [
        Column("timestamp", "timestamp", required=True),
        Column("partner_email", "email", required=True),
        Column("respondent", "email"),
        *_items(),
    ],
    # Optional, read only: one-click unsubscribes (a Google Form's responses, say).
    "unsubscribes": [
        Column("timestamp", "timestamp", required=True),
        Column("email", "email", required=True),
    ],
    "log": [
        Column("timestamp", "logtime", required=True),
        Column("run_id", "text"),
        Column("action", "text"),
        Column("partner_email", "email"),
        Column("key", "text"),
        Column("template", "text"),
        Column("subject", "text"),
        Column("message_id", "text"),
        Column("status", "enum", choices=LOG_STATUSES, required=True),
        Column("detail", "text"),
    ],
}
# Values in these columns must hold a value, not just the column.
NOT_BLANK = {
    "partners": ("name", "email"),
    "referrals": ("date", "direction", "partner_email"),
    "touches": ("date", "partner_email"),
    "survey": ("timestamp", "partner_email"),
    "unsubscribes": ("email",),
    "log": ("timestamp", "status"),
}
# What a form's email question may be called: all read as the Unsubscribes `email` column.
UNSUBSCRIBE_EMAIL_HEADERS = ("email_address", "e_mail", "your_email", "your_email_address")
STOP_IF_MISSING = ("partners", "referrals")
# Health's values beside each Partners row (`partners link-columns`): never read as the user's.
LINKED_COLUMNS = ("action", "next_due", "last_touch")
DATE_KINDS = ("date", "until", "timestamp", "logtime")
NOT_IN_FUTURE = {
    "partners": ("first_contact",),
    "referrals": ("date", "closed_on"),
    "touches": ("date",),
    "survey": ("timestamp",),
}


def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA: a column as the sheet shows it (SHEET.md)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
