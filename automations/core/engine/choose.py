"""From every rule's verdict to one action per partner: priority, spacing, one email each.

RULES.md: at most one partner-facing email per partner per run, in priority order;
`escalate` goes to the owner and does not block the partner's action; surveys and
check-ins wait `min_days_between_emails` after any email; `next_due` is the soonest day
any rule says it falls due.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automations.core.engine import arrays as f
from automations.core.engine.actions import Due, held
from automations.core.engine.facts import Facts
from automations.core.engine.rules import Rules
from automations.core.vocabulary import PARTNER_ACTIONS, Action


@dataclass(frozen=True)
class Verdicts:
    """Each rule's `Due`, as `decide` gathered them."""

    escalation: Due
    survey_escalation: Due
    thank: Due
    outcome: Due
    follow_up: Due
    fade: Due
    statement: Due
    survey: Due
    nurture: Due

    @property
    def escalate(self) -> np.ndarray:
        """An escalation of a referral or a survey response goes to the owner today."""
        return self.escalation.now | self.survey_escalation.now


@dataclass(frozen=True)
class Choice:
    """The action per partner, what waits and why, and when something is next due."""

    action: np.ndarray  # Health's action (escalate wins the column)
    partner_action: np.ndarray  # the partner-facing one
    waiting: np.ndarray  # "survey" / "check-in" held back by spacing, else ""
    replied: np.ndarray  # a contacted partner answered: start check-ins by hand
    next_due: np.ndarray
    next_kind: np.ndarray


def choose(F: Facts, v: Verdicts, rules: Rules) -> Choice:
    """One action per partner in RULES.md's order, and the next due day."""
    hard, soft = F.hard, F.soft
    open_ = ~hard & ~soft
    spaced = held(F, rules)
    conditions = [
        v.thank.now & ~hard,
        v.outcome.now & ~hard,
        hard | soft,
        open_ & v.follow_up.now,
        open_ & v.fade.now,
        open_ & v.statement.now,  # never held by spacing; a survey waits for it (RULES.md)
        open_ & v.survey.now & ~spaced,
        open_ & v.nurture.now & ~spaced,
    ]
    choices = [
        Action.THANK,
        Action.OUTCOME,
        Action.BLOCKED,
        Action.FOLLOW_UP,
        Action.FADE,
        Action.STATEMENT,
        Action.SURVEY,
        Action.NURTURE,
    ]
    partner_action = np.select(conditions, choices, Action.NONE).astype(object)
    idle = (partner_action == Action.NONE) & open_
    waiting = np.where(
        idle & v.survey.now & spaced,
        "survey",
        np.where(idle & v.nurture.now & spaced, "check-in", ""),
    ).astype(object)
    action = np.where(v.escalate, Action.ESCALATE, partner_action).astype(object)
    replied = (F.status == "contacted") & np.where(
        F.has_outreach, F.inbound_since, ~np.isnan(F.last_inbound)
    )
    next_due, next_kind = _next(F, v, action)
    return Choice(action, partner_action, waiting, replied, next_due, next_kind)


def _next(F: Facts, v: Verdicts, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Today for what is due now; else the soonest day a rule gives (escalations only for
    blocked and fading partners: nothing else goes to them)."""
    escalation = v.escalation.next_day
    soonest = f.nanmin(
        v.nurture.next_day,
        v.survey.next_day,
        v.follow_up.next_day,
        v.statement.next_day,
        escalation,
    )
    upcoming = np.where(np.isnan(soonest), np.nan, np.maximum(soonest, F.T + 1))
    due_now = np.isin(action, [Action.ESCALATE, *PARTNER_ACTIONS])
    stopped = np.isin(action, [Action.FADE, Action.BLOCKED])
    next_due = np.where(due_now, F.T, np.where(stopped, escalation, upcoming))
    next_kind = np.select(
        [
            next_due == escalation,
            next_due == v.follow_up.next_day,
            next_due == v.statement.next_day,
            next_due == v.survey.next_day,
            next_due == v.nurture.next_day,
        ],
        ["escalation", "follow-up", "statement", "survey", "check-in"],
        "",
    ).astype(object)
    return next_due, next_kind
