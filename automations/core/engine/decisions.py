"""What `decide` takes beyond the sheet and the rules, and what it returns (Health, emails)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from automations.core.vocabulary import Kind

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
    "statement",
)


@dataclass(frozen=True)
class DecideOptions:
    """What the decision needs to know beyond the sheet and the rules."""

    sender_email: str = ""
    survey_enabled: bool = False
    statement_enabled: bool = False  # `[statement] every` is not "none" (wiring sets it)
    count_written: bool = True  # outbox backend: `written` stops a rewrite and spaces emails


@dataclass(frozen=True)
class DueEmail:
    """One email due now: its kind, the partner it is about, who gets it, its keys."""

    kind: Kind
    partner_email: str
    to: str
    keys: tuple[str, ...]
    referral_rows: tuple[int, ...] = ()  # Referrals rows it covers (thank, outcome, escalation)
    priority: int = 9
    score: float = 0.0
    thread_message_id: str = ""  # a follow-up's outreach, to thread under
    thread_subject: str = ""


@dataclass
class Decisions:
    """One Health row per valid partner (sorted) and the emails that are due now (`emails`,
    a table for whole-column work; `due`, the same as `DueEmail`s, made on first use)."""

    health: pd.DataFrame
    emails: pd.DataFrame

    @cached_property
    def due(self) -> list[DueEmail]:
        """The due emails in sending order (most important first)."""
        rows: list[dict[str, Any]] = self.emails.to_dict("records")  # type: ignore[assignment]
        return [
            DueEmail(
                kind=Kind(r["kind"]),
                partner_email=str(r["partner_email"]),
                to=str(r["to"]),
                keys=tuple(r["keys"]),
                referral_rows=tuple(int(i) for i in r["referral_rows"]),
                priority=int(r["priority"]),
                score=float(r["score"]),
                thread_message_id=str(r["thread_message_id"] or ""),
                thread_subject=str(r["thread_subject"] or ""),
            )
            for r in rows
        ]
