"""What comes due for one owner, as all-day calendar reminders (CLI.md, `partners calendar`).

Derived from Health (each partner's action, or its next kind and `next_due`) and from the
proposals waiting for approval, never from a list of kinds: an action the engine learns
later shows up here with a plain title of its own. A reminder's `ident` is made of the
partner and the kind (a proposal of an internal kind: its at-most-once keys), never of a
date or a run, so a calendar app updates an event rather than adding a second one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from automations.core.review import Proposal
from automations.core.vocabulary import INTERNAL_KINDS, Action, Kind

# Health actions that are not something to do on a day: nothing due, a partner never
# emailed, a relationship let go, a row to fix (those have the sheet, not the calendar).
NOT_DUE = frozenset({Action.NONE, Action.BLOCKED, Action.FADE, Action.FIX_ROW})
# Health's action names and `next_kind`'s words, as the email kind they stand for.
_SAME_AS = {Action.ESCALATE: Kind.ESCALATION, "check_in": Kind.NURTURE}
_TITLES: dict[str, str] = {
    Kind.FOLLOW_UP: "Follow up with {who}",
    Kind.NURTURE: "Check in with {who}",
    Kind.SURVEY: "Survey {who}",
    Kind.THANK: "Thank {who}",
    Kind.OUTCOME: "Share the outcome with {who}",
    Kind.ESCALATION: "Look into a referral with {who}",
    Kind.STATEMENT: "Referral statement for {who}",
    Kind.OUTREACH: "Reach out to {who}",
    Kind.DIGEST: "Weekly digest for {who}",
    Kind.SURVEY_OWNER: "Your self-assessment of {who}",
}


@dataclass(frozen=True)
class Reminder:
    """One all-day event: its stable identity, its day, its title and its text."""

    ident: str  # the same for the same partner and kind on every export
    day: dt.date
    title: str
    text: str
    kind: str


def kind_of(word: str) -> str:
    """The email kind a Health action or `next_kind` word stands for (RULES.md)."""
    kind = word.strip().lower().replace("-", "_").replace(" ", "_")
    return _SAME_AS.get(kind, kind)


def title_of(kind: str, who: str) -> str:
    """The event's title: "Follow up with Ada Lovelace (Acme)"; an unknown kind in words."""
    pattern = _TITLES.get(kind, kind.replace("_", " ").capitalize() + ": {who}")
    return pattern.format(who=who)


def owners_in(health: pd.DataFrame, proposals: Iterable[Proposal]) -> list[str]:
    """Every relationship owner named in Health (blank: the sender) or by a proposal."""
    found = {str(o).strip().lower() for o in health["owner"]} if len(health) else set()
    found |= {p.owner.strip().lower() for p in proposals if p.owner}
    return sorted(o for o in found if o)


def reminders(
    health: pd.DataFrame, waiting: Iterable[Proposal], owner: str, today: dt.date
) -> list[Reminder]:
    """The owner's reminders (CLI.md `partners calendar`): what each of their partners has
    due today or next, and each proposal waiting for their approval, by day then title."""
    owner = owner.strip().lower()
    mine = health[health["owner"].astype(str).str.strip().str.lower() == owner]
    found: dict[str, Reminder] = {}
    names: dict[str, str] = {}
    rows: list[dict[str, Any]] = mine.to_dict("records")  # type: ignore[assignment]
    for row in rows:
        names[str(row["email"]).lower()] = _who(row)
        made = _from_health(row, today)
        if made is not None:
            found.setdefault(made.ident, made)
    for p in waiting:
        # An approved email goes with the next sending run: nothing left to decide.
        if p.owner.strip().lower() != owner or p.status == "approved":
            continue
        made = _from_proposal(p, names, today)
        earlier = found.get(made.ident)
        found[made.ident] = _merged(earlier, made) if earlier else made
    return sorted(found.values(), key=lambda r: (r.day, r.title, r.ident))


def ident_of(kind: str, partner: str) -> str:
    """A reminder's identity: the kind and the partner's address, nothing that moves."""
    return f"{kind}:{partner.strip().lower()}"


def _who(row: Mapping[str, Any]) -> str:
    name = str(row.get("name") or "").strip() or str(row["email"])
    company = str(row.get("company") or "").strip()
    return f"{name} ({company})" if company else name


def _day(value: Any) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def _from_health(row: Mapping[str, Any], today: dt.date) -> Reminder | None:
    action = str(row.get("action") or "")
    word = action if action and action not in NOT_DUE else str(row.get("next_kind") or "")
    day = _day(row.get("next_due"))
    if not word or day is None:
        return None
    kind = kind_of(word)
    due = " (today)" if day <= today else ""
    reason = str(row.get("reason") or "").strip()
    text = "\n".join(
        line
        for line in (
            f"{title_of(kind, _who(row))}: next_due {day.isoformat()}{due}.",
            f"Why: {reason}" if reason else "",
            f"Partner: {row['email']}",
        )
        if line
    )
    ident = ident_of(kind, str(row["email"]))
    return Reminder(ident, max(day, today), title_of(kind, _who(row)), text, kind)


def _from_proposal(p: Proposal, names: Mapping[str, str], today: dt.date) -> Reminder:
    kind = kind_of(p.kind)
    if kind in INTERNAL_KINDS or not p.partners:
        ident = f"{kind}:" + " ".join(sorted(p.keys))
        who = p.to_name or p.to_email
    else:
        partner = p.partners[0].lower()
        ident, who = ident_of(kind, partner), names.get(partner, p.to_name or partner)
    later = _day(p.later_until) if p.status == "later" and p.later_until else None
    asked = f" (you asked to see it again on {later.isoformat()})" if later else ""
    text = "\n".join(
        line
        for line in (
            f"The {kind.replace('_', '-')} email to {p.to_email} waits for your approval "
            f"since {p.proposed_at[:10]}{asked}: decide with `partners review` or in the "
            "Review tab.",
            f"Subject: {p.subject}",
            f"Why: {p.why}" if p.why else "",
        )
        if line
    )
    day = max(today, later) if later else today
    return Reminder(ident, day, f"Approve: {title_of(kind, who)}", text, kind)


def _merged(due: Reminder, waiting: Reminder) -> Reminder:
    """A partner's due action whose email already waits for approval: one event that says
    so, under the action's identity (the event is updated, not doubled)."""
    return replace(waiting, text=f"{waiting.text}\n\n{due.text}")
