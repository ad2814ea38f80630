"""A campaign: its file (name, template, subject, limit, audience) and who it reaches.

Pure: the file's parsed TOML and the tables in, the campaign and its audience out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from automations.core import keys
from automations.core.engine import arrays
from automations.core.engine.decisions import Decisions
from automations.core.render import plain
from automations.core.schema import SCHEMAS
from automations.core.tables import Tables, normalise_header
from automations.core.vocabulary import PARTNER_KINDS, Action, Kind
from automations.errors import ConfigError

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


@dataclass(frozen=True)
class Campaign:
    """One outreach campaign as its file describes it."""

    name: str
    template: str
    subject: str = ""
    limit: int | None = None
    audience: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def key(self, email: str) -> str:
        """The frozen idempotency key: each partner at most once per campaign."""
        return keys.campaign(self.name, email.lower())


def parse_campaign(data: dict[str, Any], source: str) -> Campaign:
    """A Campaign from the file's TOML; every mistake names the file and the key."""
    known = {"name", "template", "subject", "limit", "audience"}
    for key in data:
        if key not in known:
            raise ConfigError(
                f"campaign file {source}: key {key!r} is not known ({', '.join(sorted(known))})"
            )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f"campaign file {source}: 'name' is required (e.g. name = \"prospects-intro-2026-12\")"
        )
    if not set(name) <= NAME_CHARS:
        raise ConfigError(
            f"campaign file {source}: 'name' may hold only lower-case letters, digits, '-', '_' and '.'"
        )
    template = data.get("template")
    if not isinstance(template, str) or not template.strip():
        raise ConfigError(
            f"campaign file {source}: 'template' is required (e.g. template = \"outreach\")"
        )
    subject = data.get("subject", "")
    if not isinstance(subject, str):
        raise ConfigError(f"campaign file {source}: 'subject' must be text")
    limit = data.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ConfigError(f"campaign file {source}: 'limit' must be a whole number, 0 or more")
    audience: dict[str, tuple[str, ...]] = {}
    raw_audience = data.get("audience", {})
    if not isinstance(raw_audience, dict):
        raise ConfigError(f"campaign file {source}: [audience] must be a table")
    for key, value in raw_audience.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str | int | float | bool) for v in values):
            raise ConfigError(
                f"campaign file {source}: audience.{key} must be a value or a list of values"
            )
        audience[normalise_header(key)] = tuple(plain(v).strip().lower() for v in values)
    return Campaign(name.strip(), template.strip(), subject, limit, audience)


@dataclass
class Audience:
    """Who matches, who is reached now, and who waits (and why)."""

    matching: list[str] = field(default_factory=list)
    due: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    never: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)


def _check_choices(column: str, allowed: tuple[str, ...], source: str) -> None:
    """An audience value a column of choices never holds (`prospects` for `prospect`) is
    named: it would match nobody, and the run would say "0 to reach" as if all were well."""
    choices = next((c.choices for c in SCHEMAS["partners"] if c.name == column), ())
    wrong = [a for a in allowed if choices and a and a not in choices]
    if wrong:
        raise ConfigError(
            f"campaign file {source}: audience.{column} names {wrong[0]!r}, which no Partners "
            f"{column} can be (one of: {', '.join(choices)})"
        )


def select(
    campaign: Campaign,
    tables: Tables,
    decisions: Decisions,
    today: dt.date,
    min_days_between_emails: int,
    count_written: bool,
    source: str,
) -> Audience:
    """The partners the audience filter matches, minus those reached, blocked or just emailed."""
    partners = tables.partners.reset_index(drop=True)
    mask = np.ones(len(partners), dtype=bool)
    for column, allowed in campaign.audience.items():
        if column not in partners.columns:
            columns = ", ".join(c for c in partners.columns if c != "row")
            raise ConfigError(
                f"campaign file {source}: audience.{column} is not a Partners column ({columns})"
            )
        _check_choices(column, allowed, source)
        cells = partners[column].map(lambda v: plain(v).strip().lower())
        mask &= cells.isin(list(allowed)).to_numpy()
    emails = pd.Index(partners["email"])
    # Only the partners read whole: `fix row` emails are not Partners emails (and may repeat).
    valid = decisions.health[decisions.health["action"] != Action.FIX_ROW]
    health = valid.set_index("email").reindex(emails)
    view = arrays.log_view(tables.log, emails, count_written)
    recent = view.sent_mask & np.isin(view.action, PARTNER_KINDS) & (view.code >= 0)
    last_email = arrays.group_max(view.code[recent], view.day[recent], len(partners))
    campaign_keys = pd.Index([campaign.key(e) for e in partners["email"]])
    # A first hello goes once per partner whatever the campaign: two campaigns whose
    # audiences overlap never introduce you twice (EMAIL.md, review; RULES.md, campaigns).
    hello = view.sent_mask & (view.action == Kind.OUTREACH) & (view.code >= 0)
    greeted = np.zeros(len(partners), dtype=bool)
    greeted[view.code[hello].astype("int64")] = campaign.template == Kind.OUTREACH
    already = mask & (campaign_keys.isin(view.handled_keys) | greeted)
    declined = (partners["status"] == "declined").to_numpy()
    never = mask & ~already & (health["hard_blocked"].fillna(False).to_numpy(dtype=bool) | declined)
    T = arrays.day_number(today)
    snoozed = arrays.day_numbers(partners["snooze_until"]) > T  # RULES.md: no campaign either
    waiting = mask & ~already & ~never & ((T - last_email < min_days_between_emails) | snoozed)
    due = mask & ~already & ~never & ~waiting
    until = arrays.snoozed(arrays.day_numbers(partners["snooze_until"]))
    reasons = np.where(declined, "declined", health["reason"].astype(str).to_numpy())
    email_arr = emails.to_numpy(dtype=object)
    return Audience(
        matching=[str(e) for e in email_arr[mask]],
        due=[str(e) for e in email_arr[due]],
        already=[str(e) for e in email_arr[already]],
        never={str(e): str(r) for e, r in zip(email_arr[never], reasons[never], strict=True)},
        waiting={
            str(e): str(u) if z else f"emailed in the last {min_days_between_emails} days"
            for e, z, u in zip(email_arr[waiting], snoozed[waiting], until[waiting], strict=True)
        },
    )
