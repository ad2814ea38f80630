"""`decide`: from typed tables, today and the rules to one decision per partner.

Pure and vectorised: whole-table numpy/pandas steps, no per-row loop over referrals,
touches or the log, no clock and no I/O (RULES.md). It only orchestrates: `facts.gather`,
one rule per action (`actions`), `choose`, then the reasons, Health and the due emails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd

from automations.core.engine import actions
from automations.core.engine import arrays as f
from automations.core.engine.choose import Choice, Verdicts, choose
from automations.core.engine.decisions import DecideOptions, Decisions
from automations.core.engine.due import due_emails
from automations.core.engine.facts import Facts, gather
from automations.core.engine.reasons import explain
from automations.core.engine.rules import Rules
from automations.core.statements import states
from automations.core.tables import Tables
from automations.core.vocabulary import ACTION_ORDER, Action, Kind


def decide(tables: Tables, today: dt.date, rules: Rules, options: DecideOptions) -> Decisions:
    """Decide what each relationship needs today. Same input, same output."""
    return _decided(tables, gather(tables, today, rules, options), today, rules, options)


def decide_holding_surveys(
    tables: Tables, today: dt.date, rules: Rules, options: DecideOptions
) -> tuple[Decisions, int]:
    """`decide` as if surveys were off, and how many survey emails would be due with them
    on (held back while the form is the sample's placeholder): the facts, which do not
    depend on whether surveys are on, gathered once for both."""
    F = gather(tables, today, rules, options)
    verdicts = judge(F, rules, today, options)
    due = due_emails(F, choose(F, verdicts, rules), verdicts)
    held = int((due["kind"] == Kind.SURVEY).sum()) if len(due) else 0
    off = replace(options, survey_enabled=False)
    return _decided(tables, F, today, rules, off), held


def _decided(
    tables: Tables, F: Facts, today: dt.date, rules: Rules, options: DecideOptions
) -> Decisions:
    """The decisions from the gathered facts: verdicts, choice, reasons, Health, due emails."""
    verdicts = judge(F, rules, today, options)
    choice = choose(F, verdicts, rules)
    reasons, own, escalation = explain(F, choice, verdicts, tables.referrals, tables.blocked, rules)
    statement = states(tables.log, tables.touches, F.emails, options.count_written, F.log_view)
    last = {"escalation_reason": escalation, "next_kind": choice.next_kind, "statement": statement}
    health = health_frame(tables.partners, F, choice, reasons, own, last)
    if len(tables.fix_rows):
        health = with_fix_rows(health, tables.fix_rows, options.sender_email)
    health = sort_health(health)
    return Decisions(health=health, emails=due_emails(F, choice, verdicts))


def judge(F: Facts, rules: Rules, today: dt.date, options: DecideOptions) -> Verdicts:
    """Every rule's verdict (fade first: a relationship being let go gets no survey or
    check-in from the day it starts to fade)."""
    referrals, survey_escalation = actions.escalation(F, rules)
    fade = actions.fade(F, rules)
    # Snoozed: no follow-up, check-in or survey before snooze_until; away (an automatic
    # reply named a return day): none of them until the day after it.
    back = f.nanmax(F.snooze, F.away + 1)
    return Verdicts(
        escalation=referrals,
        survey_escalation=survey_escalation,
        thank=actions.thank(F, rules),
        outcome=actions.outcome(F, rules),
        follow_up=actions.held_until(actions.follow_up(F, rules), back, F.T),
        fade=fade,
        statement=actions.held_until(
            actions.statement(F, rules, today, options.statement_enabled), back, F.T
        ),
        survey=actions.held_until(
            actions.survey(F, rules, today, options.survey_enabled, fade.next_day), back, F.T
        ),
        nurture=actions.held_until(actions.nurture(F, rules, fade.next_day), back, F.T),
    )


def health_frame(
    partners: pd.DataFrame,
    F: Facts,
    c: Choice,
    reasons: np.ndarray,
    own: np.ndarray,
    last: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The Health columns of SHEET.md, plus two that stay off the sheet: `hard_blocked`
    (campaigns skip those partners) and `partner_reason` (the partner email's own why);
    then the columns of `last` (from `decide`: `escalation_reason` and `next_kind` for the
    owners' emails, and `statement`), in one frame rather than each added to a copy."""
    P = partners.reset_index(drop=True)
    return pd.DataFrame(
        {
            "name": P["name"],
            "email": P["email"],
            "company": P["company"],
            "type": P["type"],
            "status": F.status,
            "owner": F.owner,
            "tier": F.tier,
            "score": F.score,
            "received_12m": F.received_12m.astype("int64"),
            "given_12m": F.given_12m.astype("int64"),
            "won_value_12m": np.round(F.won_value_12m, 2),
            "last_touch": f.dates_of(F.last_touch),
            "days_since_touch": pd.array(
                np.where(np.isnan(F.last_touch), np.nan, F.T - F.last_touch), dtype="Int64"
            ),
            "survey_avg": np.round(F.survey_avg, 2),
            "action": c.action,
            "reason": reasons,
            "next_due": f.dates_of(c.next_due),
            "fee_owed": F.fee_owed,
            # Not a Health column: never to be emailed (do_not_email, bounced, refused,
            # unsubscribed, or a row error this run). Campaigns skip these partners.
            "hard_blocked": F.hard,
            "partner_reason": own,
            # Not Health columns: what the partner emails say ("since we last spoke" only
            # after an inbound touch; a gentler note after our own unanswered ones).
            "last_inbound": f.dates_of(F.last_inbound),
            "last_email": f.dates_of(F.last_email),
            "unanswered": F.unanswered.astype("int64"),
            "outreach_day": f.dates_of(F.outreach_day),
            # A check-in to a cold prospect is the honest last note (RULES.md, last_note).
            "last_note": F.cold,
            # The history the shipped templates vary and acknowledge by (EMAIL.md, "Over a
            # year"): what was sent, how often a check-in comes.
            "cadence": F.cadence,
            "checkins_sent": F.nurtures_sent.astype("int64"),
            "surveys_sent": F.surveys_sent.astype("int64"),
            **last,
        },
        index=P.index,  # the columns taken from P share it: nothing to align
    )


def with_fix_rows(health: pd.DataFrame, fix_rows: pd.DataFrame, sender: str) -> pd.DataFrame:
    """Health plus one `fix row` per partner whose Partners row has an error (RULES.md, "Rows
    with a problem"): what could be read of the row, the problem as the reason, and nothing
    computed from a row that could not be read (no tier, score or counts), never emailed."""
    owner = fix_rows["owner"].to_numpy(dtype=object)
    fixes = pd.DataFrame(
        {
            "name": fix_rows["name"],
            "email": fix_rows["email"],
            "company": fix_rows["company"],
            "type": fix_rows["type"],
            "status": fix_rows["status"],
            "owner": np.where(owner == "", sender.lower(), owner),
            "tier": "",
            "score": np.nan,
            "action": Action.FIX_ROW.value,
            "reason": fix_rows["problem"],
            "hard_blocked": True,
            "partner_reason": fix_rows["problem"],
            "unanswered": 0,
            "last_note": False,
            "checkins_sent": 0,
            "surveys_sent": 0,
            "escalation_reason": "",
            "next_kind": "",
        }
    )
    out = pd.concat([health, fixes], ignore_index=True)
    # Blank, not 0, where a fix row has no count: whole numbers stay whole (JSON, CSV).
    for name in ("received_12m", "given_12m", "days_since_touch"):
        out[name] = out[name].astype("Int64")
    return out


def sort_health(health: pd.DataFrame) -> pd.DataFrame:
    """Health in RULES.md order: action priority, then score descending, then email."""
    rank = health["action"].map({a: i for i, a in enumerate(ACTION_ORDER)})
    # The three keys sorted on their own, then Health taken in that order: the wide frame
    # is copied once, not for each added and dropped key column.
    keys = pd.DataFrame(
        {
            "rank": rank.to_numpy(),
            "neg": (-health["score"]).to_numpy(),
            "email": health["email"].reset_index(drop=True),
        }
    )
    order = keys.sort_values(["rank", "neg", "email"], kind="stable").index.to_numpy()
    return health.take(order).reset_index(drop=True)
