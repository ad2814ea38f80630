"""One plain sentence per partner with the facts behind its action (RULES.md, "Explaining").

The facts are computed whole-table in `facts` and `actions`; here each sentence is only
formatted, for the partners whose action needs it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from automations.core.engine import arrays as f
from automations.core.engine.choose import Choice, Verdicts
from automations.core.engine.facts import Facts
from automations.core.engine.rules import Rules
from automations.core.render import long_date
from automations.core.schema import ITEM_WORDS
from automations.core.vocabulary import PARTNER_ACTIONS, Action, Status

Sentences = Callable[["_Context", list[int]], None]


def _first_per_partner(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(row index into Referrals of each partner's earliest item, count) aligned to partners."""
    first = np.full(n, -1, dtype="int64")
    count = np.zeros(n, dtype="int64")
    if not frame.empty:
        # Sorted stably by partner, then day (NaN last, as pandas sorts): each partner's first.
        code, day = frame["code"].to_numpy(), frame["day"].to_numpy()
        order = np.lexsort((day, code))
        ordered = code[order]
        head = order[np.r_[True, ordered[1:] != ordered[:-1]]]
        first[code[head]] = frame["idx"].to_numpy()[head]
        count = np.bincount(code.astype("int64"), minlength=n)
    return first, count


def _n(x: float) -> str:
    """A whole number of days for a sentence; a reason never stops a run over a missing day."""
    return str(int(x)) if np.isfinite(x) else "an unknown number of"


class _Referrals:
    """Referral cells looked up by row index, formatted for a sentence."""

    def __init__(self, R: pd.DataFrame) -> None:
        self.date = f.iso_dates(f.day_numbers(R["date"]))
        self.closed = f.iso_dates(f.day_numbers(R["closed_on"]))
        self.client = R["client"].to_numpy(dtype=object)
        self.status = R["status"].to_numpy(dtype=object)
        self.direction = R["direction"].to_numpy(dtype=object)
        self.day = f.day_numbers(R["date"])

    def label(self, i: int) -> str:
        """`(2026-11-02, Acme)`, or `(2026-11-02)` when the client is blank."""
        client = self.client[i]
        return f"({self.date[i]}, {client})" if client else f"({self.date[i]})"


class _Context:
    """What every sentence may need, and the column being written."""

    def __init__(
        self,
        F: Facts,
        c: Choice,
        v: Verdicts,
        R: pd.DataFrame,
        blocked_rows: dict[str, str],
        rules: Rules,
    ) -> None:
        self.F, self.c, self.v, self.rules = F, c, v, rules
        self.ref = _Referrals(R)
        self.blocked_rows = blocked_rows
        self.out = np.full(F.n, "", dtype=object)
        self.escalation = np.full(F.n, "", dtype=object)  # for owners, in words


def explain(
    F: Facts, c: Choice, v: Verdicts, R: pd.DataFrame, blocked_rows: dict[str, str], rules: Rules
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reason column of Health, and each partner-facing action's own reason (what a
    thank-you's line in the terminal says, not the escalation that shares its Health row),
    and the escalation alone in words for the owner's emails (nothing this run's own
    thank-you settles, dates as people write them)."""
    x = _Context(F, c, v, R, blocked_rows, rules)
    by_action: dict[Action, Sentences] = {
        Action.THANK: _thank,
        Action.OUTCOME: _outcome,
        Action.FOLLOW_UP: _follow_up,
        Action.FADE: _fade,
        Action.STATEMENT: _statement,
        Action.SURVEY: _survey,
        Action.NURTURE: _nurture,
        Action.NONE: _none,
        Action.BLOCKED: _blocked,
    }
    for action, write in by_action.items():
        write(x, np.flatnonzero(c.partner_action == action).tolist())
    own = x.out.copy()
    _escalate(x, np.flatnonzero(c.action == Action.ESCALATE).tolist())
    return x.out, own, x.escalation


def _thank(x: _Context, rows: list[int]) -> None:
    first, count = _first_per_partner(x.v.thank.items, x.F.n)
    for i in rows:
        j = first[i]
        x.out[i] = (
            f"referral from {x.F.name[i]} {x.ref.label(j)} not thanked yet"
            if count[i] == 1
            else f"{count[i]} referrals from {x.F.name[i]} since {x.ref.date[j]} not thanked yet"
        )


def _outcome(x: _Context, rows: list[int]) -> None:
    first, count = _first_per_partner(x.v.outcome.items, x.F.n)
    for i in rows:
        j = first[i]
        x.out[i] = (
            f"referral {x.ref.label(j)} {x.ref.status[j]} on {x.ref.closed[j]}: "
            "outcome not shared yet"
            if count[i] == 1
            else f"{count[i]} referral outcomes not shared yet"
        )


def _follow_up(x: _Context, rows: list[int]) -> None:
    F = x.F
    outreach = f.iso_dates(F.outreach_day)
    for i in rows:
        x.out[i] = (
            f"outreach on {outreach[i]} unanswered for {_n(F.T - F.outreach_day[i])} days "
            f"(follow-up {int(F.fu_n[i]) + 1} of {x.rules.max_follow_ups})"
        )


def _fade(x: _Context, rows: list[int]) -> None:
    F = x.F
    note = f.iso_dates(F.last_nurture)
    for i in rows:
        if F.cold[i]:
            x.out[i] = f"never answered; last note sent on {note[i]}: set status to faded"
            continue
        quiet = (
            "no referrals either way yet"
            if np.isnan(F.last_referral[i])
            else f"no referrals either way in {_n((F.T - F.last_referral[i]) // 30.44)} months"
        )
        x.out[i] = f"{quiet}; {_n(F.unanswered[i])} check-ins unanswered: set status to faded"


def _statement(x: _Context, rows: list[int]) -> None:
    F = x.F
    this = f.quarter_starts(np.array([float(F.T)]))[0]
    before = f.quarter_starts(np.array([this - 1]))[0]
    inside = (F.ref_code >= 0) & (F.ref_day >= before) & (F.ref_day < this)
    got = f.group_sum(F.ref_code[inside & F.ref_received], None, F.n)
    gave = f.group_sum(F.ref_code[inside & ~F.ref_received], None, F.n)
    quarter = f"{f.date_of(before):%B} to {f.date_of(this - 1):%B %Y}"
    for i in rows:
        counts = [
            f"{int(got[i])} from them" if got[i] else "",
            f"{int(gave[i])} to them" if gave[i] else "",
        ]
        said = " and ".join(c for c in counts if c)
        x.out[i] = f"referrals in {quarter} ({said}): quarterly statement not sent yet"


def _survey(x: _Context, rows: list[int]) -> None:
    for i in rows:
        x.out[i] = f"active partner for {_n(x.F.age[i])} days; no survey yet this quarter"


def _nurture(x: _Context, rows: list[int]) -> None:
    F = x.F
    explicit = ~np.isnan(F.cadence_set)
    for i in rows:
        if F.cold[i]:
            x.out[i] = (
                f"never answered the outreach or the follow-up; no touch in "
                f"{_n(F.T - F.nurture_base[i])} days: one last note, then fade"
                if not np.isnan(F.nurture_base[i])
                else "never answered: one last note, then fade"
            )
            continue
        cadence = _n(F.cadence[i])
        every = (
            f"(check-in every {cadence} days, set on the partner)"
            if explicit[i]
            else f"(tier {F.tier[i]} check-in every {cadence})"
        )
        x.out[i] = (
            f"never checked in with {every}"
            if np.isnan(F.nurture_base[i])
            else f"no touch in {_n(F.T - F.nurture_base[i])} days {every}"
        )


def _none(x: _Context, rows: list[int]) -> None:
    F, c = x.F, x.c
    last_email, next_due = f.iso_dates(F.last_email), f.iso_dates(c.next_due)
    last_inbound = f.iso_dates(F.last_inbound)
    snooze, away = f.snoozed(F.snooze), f.iso_dates(F.away)
    for i in rows:
        then = f"; next {c.next_kind[i]} due {next_due[i]}" if c.next_kind[i] else ""
        if F.snooze[i] > F.T:
            x.out[i] = snooze[i] if snooze[i].endswith("indefinitely") else snooze[i] + then
        elif F.away[i] >= F.T:
            x.out[i] = f"away until {away[i]} (an automatic reply said so){then}"
        elif c.waiting[i]:
            x.out[i] = (
                f"{c.waiting[i]} waits: last email on {last_email[i]}; due {next_due[i]} "
                f"({x.rules.min_days_between_emails} days between emails)"
            )
        elif c.replied[i]:
            x.out[i] = f"replied on {last_inbound[i]}: set status to active to start check-ins"
        elif c.next_kind[i]:
            x.out[i] = f"next {c.next_kind[i]} due {next_due[i]}"
        elif F.status[i] == "prospect":
            x.out[i] = "nothing due (prospects are emailed only by a campaign)"
        else:
            x.out[i] = "nothing due"


def _blocked(x: _Context, rows: list[int]) -> None:
    F = x.F
    refusal_day = f.iso_dates(F.blocked_day)
    words = {
        Status.BOUNCE: "address bounced on",
        Status.UNSUBSCRIBE: "unsubscribed on",
        "unsubscribes": "unsubscribed (Unsubscribes tab) on",
    }
    for i in rows:
        if F.email[i] in x.blocked_rows:
            x.out[i] = x.blocked_rows[F.email[i]]
        elif F.do_not_email[i]:
            x.out[i] = "do_not_email is set: no email to this partner"
        elif not np.isnan(F.blocked_day[i]):
            said = words.get(F.blocked_status[i], "address refused by the mail server on")
            x.out[i] = f"{said} {refusal_day[i]}"
        else:
            x.out[i] = f"status is {F.status[i]}: no check-ins or surveys"


def _escalate(x: _Context, rows: list[int]) -> None:
    F, ref = x.F, x.ref
    first, count = _first_per_partner(x.v.escalation.items, F.n)
    survey_day = f.iso_dates(F.survey_day)
    for i in rows:
        parts, words = [], []
        j = first[i]
        if count[i]:
            word = "from" if ref.direction[j] == "received" else "to"
            more = f" (and {count[i] - 1} more)" if count[i] > 1 else ""
            days = _n(F.T - ref.day[j])
            parts.append(
                f"referral {word} {F.name[i]} {ref.label(j)} still {ref.status[j]} after "
                f"{days} days{more}"
            )
            client = ref.client[j] or "a referral"
            whose = "their" if word == "from" else "your"
            words.append(
                f"{client} ({whose} referral of {long_date(f.date_of(ref.day[j]))}) still "
                f"{ref.status[j]} after {days} days{more}"
            )
        if x.v.survey_escalation.now[i]:
            parts.append(
                f"survey of {survey_day[i]} rated the partnership low "
                f"(lowest {F.survey_low[i]:g}, average {F.survey_avg[i]:.1f})"
            )
            item = ITEM_WORDS.get(F.survey_low_item[i], "")
            words.append(
                f"their survey of {long_date(f.date_of(F.survey_day[i]))} rated the partnership "
                f"{F.survey_avg[i]:.1f} out of 9 on average, lowest {F.survey_low[i]:g}"
                + (f" for {item}" if item else "")
            )
        x.escalation[i] = "; ".join(words)
        also = x.c.partner_action[i]
        if also in PARTNER_ACTIONS:
            parts.append(f"also {also}: {x.out[i]}")
        x.out[i] = "; ".join(parts)
