"""What `decide` takes beyond the sheet and the rules, and what it returns (Health, emails)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

HEALTH_COLUMNS = (
    "name",
    "email",
    "company",
    "type",
    "status",
    "owner",
    "tier",
    "score",
    "received_12m",
    "given_12m",
    "won_value_12m",
    "last_touch",
    "days_since_touch",
    "survey_avg",
    "action",
    "reason",
    "next_due",
    "fee_owed",
)


@dataclass(frozen=True)
class DecideOptions:
    """What the decision needs to know beyond the sheet and the rules."""

    sender_email: str = ""
    survey_enabled: bool = False
    count_written: bool = True  # outbox backend: `written` stops a rewrite and spaces emails


@dataclass
class Decisions:
    """One Health row per valid partner (sorted) and the emails that are due now."""

    health: pd.DataFrame
    emails: pd.DataFrame
