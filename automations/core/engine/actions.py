"""One rule per action of RULES.md, each over the typed `Facts`.

Every rule starts from one eligibility mask and returns, from it, who is due today, the
first later day it will be due if nothing changes, and the keys: so "due now" and
`next_due` cannot drift apart. Priority, spacing and one email per partner are `choose`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automations.core import keys
from automations.core.engine import arrays as f
from automations.core.engine.facts import Facts
from automations.core.engine.rules import Rules
from automations.core.engine.score import cadence_for

STATEMENT_GRACE_DAYS = 14  # after the spread window, a statement missed by a run still goes
NO_ITEMS = pd.DataFrame({"code": [], "key": [], "day": [], "idx": []})


@dataclass(frozen=True)
class Due:
    """One action's verdict per partner: due today, the next day it falls due, its key."""

    now: np.ndarray
    next_day: np.ndarray
    keys: np.ndarray
    items: pd.DataFrame = field(default_factory=lambda: NO_ITEMS)  # referral items


def held_until(due: Due, until: np.ndarray, T: int) -> Due:
    """`due` with nothing due before day `until` (NaN: no hold): what would be due sooner
    falls due on that day instead (RULES.md: snooze, out of office)."""
    holding = until > T  # NaN compares False: no hold
    pending = due.now | ~np.isnan(due.next_day)
    later = np.where(
        holding & pending, np.fmax(np.where(due.now, until, due.next_day), until), due.next_day
    )
    return Due(due.now & ~holding, later, due.keys, due.items)


def spread(F: Facts, day: np.ndarray, rules: Rules) -> np.ndarray:
    """The first day at or after `day` that matches the partner's phase within
    `spread_days` (RULES.md, Spreading), so check-ins do not all fall on one morning."""
    if rules.spread_days <= 1:
        return day
    return day + np.mod(F.phase - day, rules.spread_days)


def survey_day(F: Facts, day: np.ndarray, rules: Rules) -> np.ndarray:
    """The partner's phase day (within the first `survey_spread_weeks` of a quarter) of the
    first quarter, from today's on, whose phase day is not before `day` (RULES.md,
    Spreading): a survey held back by the 60 days goes on the next quarter's phase day,
    not on the day the wait ends, which would bunch everyone asked on one morning."""
    window = rules.survey_spread_weeks * 7
    if window <= 0:
        return day
    since = np.fmax(day, float(f.day_number(f.quarter_start(f.date_of(F.T)))))
    phase_day = f.quarter_starts(since) + np.mod(F.phase, window)
    later = f.quarter_starts(f.quarter_starts(since) + 100) + np.mod(F.phase, window)
    return np.where(np.isnan(day), np.nan, np.where(phase_day >= since, phase_day, later))


def _none(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _referral_items(
    F: Facts, rows: np.ndarray, make: Callable[[np.ndarray], np.ndarray]
) -> pd.DataFrame:
    """The referral rows in `rows` whose key (`make(row indexes)`) is not handled yet; keys
    are made for those rows only (a sheet has 700,000 referrals and few are due)."""
    idx = np.flatnonzero(rows)
    made = make(idx) if len(idx) else np.zeros(0, dtype=object)
    new = ~pd.Index(made).isin(F.handled) if len(idx) else np.zeros(0, dtype=bool)
    return pd.DataFrame(
        {
            "code": F.ref_code[idx][new],
            "key": made[new],
            "day": F.ref_day[idx][new],
            "idx": idx[new],
        }
    )


def _handled(F: Facts, made: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Which keys are handled, looked up only where `where` holds (the rest: False)."""
    out = np.zeros(len(made), dtype=bool)
    if where.any():
        out[where] = pd.Index(made[where]).isin(F.handled)
    return out


def _per_partner(F: Facts, items: pd.DataFrame) -> np.ndarray:
    return f.group_sum(items["code"].to_numpy(), None, F.n) > 0


def _ref_emails(F: Facts, idx: np.ndarray) -> np.ndarray:
    return F.email[F.ref_code[idx]]


def _ref_dates(F: Facts, idx: np.ndarray) -> np.ndarray:
    return f.iso_dates(F.ref_day[idx])


def escalation(F: Facts, rules: Rules) -> tuple[Due, Due]:
    """A referral left new/contacted too long (either direction), and a low survey: the
    owner is told once per referral and once per response."""
    rage = F.T - F.ref_day
    eligible = F.ref_pending & (rage <= rules.escalate_within_days)
    stale = eligible & (rage > rules.stale_referral_days)
    items = _referral_items(
        F,
        stale,
        lambda i: keys.referral_escalation(_ref_emails(F, i), F.ref_direction[i], _ref_dates(F, i)),
    )
    coming = eligible & (rage <= rules.stale_referral_days)
    coming &= rules.stale_referral_days < rules.escalate_within_days
    first_stale = F.ref_day[coming] + rules.stale_referral_days + 1
    next_day = f.group_min(F.ref_code[coming], first_stale, F.n)
    referrals = Due(_per_partner(F, items), next_day, np.full(F.n, "", dtype=object), items)
    low = (F.T - F.survey_day <= rules.survey_escalate_within_days) & (
        (F.survey_low <= rules.low_rating) | (F.survey_avg < rules.low_average)
    )
    survey_keys = np.full(F.n, "", dtype=object)
    survey_keys[low] = keys.survey_escalation(F.email[low], f.iso_dates(F.survey_day[low]))
    now = low & ~_handled(F, survey_keys, low)
    return referrals, Due(now, _none(F.n), np.where(now, survey_keys, ""))


def thank(F: Facts, rules: Rules) -> Due:
    """Received referrals of the last `thank_within_days` not thanked yet (by their date)."""
    rage = F.T - F.ref_day
    rows = F.ref_received & (rage >= 0) & (rage <= rules.thank_within_days)
    items = _referral_items(F, rows, lambda i: keys.thank(_ref_emails(F, i), _ref_dates(F, i)))
    return Due(_per_partner(F, items), _none(F.n), np.full(F.n, "", dtype=object), items)


def outcome(F: Facts, rules: Rules) -> Due:
    """Received referrals won or lost lately whose outcome was not shared yet."""
    since = F.T - F.ref_closed_day
    rows = F.ref_received & F.ref_closed & (since >= 0) & (since <= rules.outcome_within_days)
    items = _referral_items(F, rows, lambda i: keys.outcome(_ref_emails(F, i), _ref_dates(F, i)))
    return Due(_per_partner(F, items), _none(F.n), np.full(F.n, "", dtype=object), items)


def follow_up(F: Facts, rules: Rules) -> Due:
    """A prospect's outreach unanswered `follow_up_after_days` on, while follow-ups remain."""
    eligible = (
        np.isin(F.status, ["prospect", "contacted"])
        & F.has_outreach
        & ~F.inbound_since
        & (F.fu_n < rules.max_follow_ups)
        & ~F.hard
    )
    made = np.full(F.n, "", dtype=object)
    made[eligible] = keys.follow_up(
        F.email[eligible], f.iso_dates(F.outreach_day[eligible]), (F.fu_n[eligible] + 1).astype(int)
    )
    first = f.nanmax(
        F.outreach_day + rules.follow_up_after_days, F.last_fu + rules.follow_up_after_days
    )
    in_window = first <= F.outreach_day + rules.follow_up_within_days
    now = eligible & (first <= F.T) & (F.T - F.outreach_day <= rules.follow_up_within_days)
    now &= ~_handled(F, made, now)
    next_day = np.where(eligible & in_window & (first > F.T), first, np.nan)
    return Due(now, next_day, made)


def fade(F: Facts, rules: Rules) -> Due:
    """A quiet relationship let go: long without referrals, check-ins unanswered. `next_day`
    is the day it starts to fade (surveys and check-ins stop from then on)."""
    eligible = (
        np.isin(F.status, ["active", "contacted"])
        & (F.unanswered >= rules.fade_after_unanswered)
        & np.isnan(F.cadence_set)
    )
    starts = f.nanmax(
        F.partnership_start + rules.fade_after_days, F.last_referral + rules.fade_after_days
    )
    starts = np.where(eligible & ~np.isnan(F.age), starts, np.nan)
    # A cold prospect fades once its last note went (RULES.md, `last_note`).
    starts = np.where(F.cold & ~np.isnan(F.last_nurture), F.last_nurture, starts)
    return Due(starts <= F.T, starts, np.full(F.n, "", dtype=object))


def held(F: Facts, rules: Rules) -> np.ndarray:
    """Spacing: the toolkit emailed the partner in the last `min_days_between_emails`."""
    return F.T - F.last_email < rules.min_days_between_emails


def survey(F: Facts, rules: Rules, today: dt.date, enabled: bool, fading_from: np.ndarray) -> Due:
    """Active partners, old enough, not surveyed or answering this quarter nor lately."""
    # RULES.md: age ≥ survey_min_age_days, so a partnership of unknown age (no first_contact,
    # no touch) is never old enough, even when a survey answer of its own is on file.
    known_age = ~np.isnan(F.age)
    eligible = (F.status == "active") & ~F.soft & ~F.hard & known_age & enabled
    eligible &= F.surveys_unanswered < rules.survey_stop_after_unanswered
    q_first = f.day_number(f.quarter_start(today))
    made = np.full(F.n, "", dtype=object)
    made[eligible] = keys.survey(F.email[eligible], keys.quarter_label(today))
    this_quarter = (
        _handled(F, made, eligible) | (F.last_survey >= q_first) | (F.last_answer >= q_first)
    )
    first = f.nanmax(
        F.partnership_start + rules.survey_min_age_days,
        F.last_survey + rules.survey_min_days_between,
        F.last_answer + rules.survey_min_days_between,
        np.where(this_quarter, f.day_number(f.next_quarter_start(today)), np.nan),
    )
    first = survey_day(F, first, rules)
    now = eligible & (first <= F.T) & ~(fading_from <= F.T)
    goes = f.nanmax(first, F.last_email + rules.min_days_between_emails)
    next_day = np.where(now & ~held(F, rules), float(F.T), np.maximum(goes, F.T + 1))
    next_day = np.where(eligible & ~(fading_from <= next_day), next_day, np.nan)
    return Due(now, next_day, made)


def _with_referrals(F: Facts, first: float, end: float) -> np.ndarray:
    """Partners with a referral either way dated in [first, end)."""
    inside = (F.ref_code >= 0) & (F.ref_day >= first) & (F.ref_day < end)
    return f.group_sum(F.ref_code[inside], None, F.n) > 0


def statement(F: Facts, rules: Rules, today: dt.date, enabled: bool) -> Due:
    """Active partners with a referral either way last quarter get the quarter's statement
    on their phase day (RULES.md, Statements); never held by spacing (`choose` knows)."""
    q_first = float(f.day_number(f.quarter_start(today)))
    q_next = float(f.day_number(f.next_quarter_start(today)))
    previous = float(f.day_number(f.quarter_start(f.date_of(q_first - 1))))
    eligible = (F.status == "active") & ~F.soft & ~F.hard & enabled
    made = np.full(F.n, "", dtype=object)
    made[eligible] = keys.statement(F.email[eligible], keys.quarter_label(today))
    owed = eligible & _with_referrals(F, previous, q_first) & ~_handled(F, made, eligible)
    # Last quarter's ledger is news for the quarter's first weeks only: a first run late in a
    # quarter sends no wave of old statements (RULES.md: first runs send no waves of old mail).
    owed &= q_first + rules.survey_spread_weeks * 7 + STATEMENT_GRACE_DAYS > F.T
    this_day = survey_day(F, np.full(F.n, q_first), rules)
    now = owed & (this_day <= F.T)
    # Referrals this quarter so far make next quarter's statement due, as deciding then would.
    coming = eligible & _with_referrals(F, q_first, F.T + 1)
    next_day = np.where(coming, survey_day(F, np.full(F.n, q_next), rules), np.nan)
    next_day = np.where(owed, np.where(now, float(F.T), this_day), next_day)
    return Due(now, next_day, made)


def nurture(F: Facts, rules: Rules, fading_from: np.ndarray) -> Due:
    """A check-in once the cadence has passed since the last touch (RULES.md); the next day
    is found with the tier the score will have on that day, as deciding then would."""
    exhausted = ~F.has_outreach | (F.fu_n >= rules.max_follow_ups)
    quiet = np.where(F.has_outreach, ~F.inbound_since, np.isnan(F.last_inbound))
    warm = (F.status == "contacted") & exhausted & quiet & ~F.cold
    # A cold prospect gets one last note, `last_note_after_days` after the last touch.
    note = F.cold & np.isnan(F.last_nurture)
    eligible = ((F.status == "active") | warm | note) & ~F.soft & ~F.hard
    every = np.where(note, rules.last_note_after_days, F.cadence)
    base = np.where(np.isnan(F.nurture_base), F.first_contact, F.nurture_base)
    made = np.full(F.n, "", dtype=object)
    made[eligible] = keys.nurture(
        F.email[eligible],
        np.where(np.isnan(F.nurture_base), "never", f.iso_dates(F.nurture_base))[eligible],
    )
    now = eligible & ~(spread(F, base + every, rules) > F.T)  # NaN base: due now
    now &= ~_handled(F, made, now)
    now &= ~(fading_from <= F.T)
    lower = f.nanmax(F.last_email + rules.min_days_between_emails, np.full(F.n, F.T + 1.0))
    # Never touched, no first contact: due whenever spacing allows.
    found = np.where(np.isnan(base), lower, np.nan)
    for days in sorted({rules.cadence_a_days, rules.cadence_b_days, rules.cadence_c_days}):
        cadence = np.where(np.isnan(F.cadence_set), days, F.cadence_set)
        cadence = np.where(note, rules.last_note_after_days, cadence)
        day = np.maximum(spread(F, base + cadence, rules), lower)
        then = np.where(note, rules.last_note_after_days, cadence_for(F, day, rules))
        valid = spread(F, base + then, rules) <= day
        found = np.where(valid & ~(day >= found), day, found)
    next_day = np.where(now & ~held(F, rules), float(F.T), found)
    next_day = np.where(eligible & ~(fading_from <= next_day), next_day, np.nan)
    return Due(now, next_day, made)
