"""The review step inside a sending run (EMAIL.md, "Review before sending"): decisions
applied, proposals expired, withdrawn or found sent, and this run's drafts split into
approved (to send as proposed), not under review (to send) and to propose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from automations.adapters.state import Entry
from automations.config import Settings
from automations.core.mail.draft import Draft
from automations.core.review import (
    OPEN,
    Decision,
    Proposal,
    about,
    held_by_a_row,
    referral_days,
    under_review,
    withdraw_reason,
)
from automations.core.vocabulary import NEVER_AGAIN, Status
from automations.jobs.review.decisions import decide, moved
from automations.jobs.session import Session

GONE = (
    Status.SENT,
    Status.PENDING,
    Status.UNCERTAIN,
)  # journal states of a key that went, or may have


@dataclass
class ReviewStep:
    """What the review step of one sending run did and hands on."""

    approved: list[Draft] = field(default_factory=list)  # their current drafts
    approved_by_ident: dict[str, Proposal] = field(default_factory=dict)
    to_send: list[Draft] = field(default_factory=list)  # not under review
    to_propose: list[Draft] = field(default_factory=list)
    changed: dict[str, Proposal] = field(default_factory=dict)  # ident -> its new state
    entries: list[Entry] = field(default_factory=list)  # Log rows: skipped, withdrawn
    notes: list[str] = field(default_factory=list)  # said in the run's output
    proposals: list[Proposal] = field(default_factory=list)  # every one, as now


@dataclass(frozen=True)
class Ground:
    """What an open proposal is judged against in one run: today's drafts by key, the
    journal's states of its keys, the partners' Health rows and the referral rows."""

    due: Mapping[str, Draft]
    states: Mapping[str, str]
    health: Mapping[str, Mapping[str, Any]]
    blocked: frozenset[str]
    referred: set[tuple[str, str]]
    today: dt.date
    expires_days: int

    def verdict(self, p: Proposal) -> tuple[str, str]:
        """(what becomes of `p`, why): `sent` (the journal knows it went, or may have),
        `withdrawn`, `due` (every key due today) or `waits` (not due today, for a reason
        that passes: spacing, away, a row to fix)."""
        went = next((self.states[k] for k in p.keys if self.states.get(k) in GONE), "")
        if went:  # a run killed mid-send
            return Status.SENT, went
        start = dt.date.fromisoformat(p.later_until) if p.later_until else p.proposed_day
        if p.status == "waiting" and self.today - start > dt.timedelta(days=self.expires_days):
            return Status.WITHDRAWN, f"expired: nobody decided within {self.expires_days} days"
        if all(k in self.due for k in p.keys):
            return "due", ""
        partner = p.partners[0] if p.partners else p.to_email
        if held_by_a_row(self.health.get(partner), partner in self.blocked):
            return "waits", ""  # a row to fix is this run's problem, not a lasting reason
        gone = [day for who, day in referral_days(p) if (who, day) not in self.referred]
        why = withdraw_reason(self.health.get(partner), p, self.today, gone)
        return (Status.WITHDRAWN, why) if why else ("waits", "not due")


def settle(
    settings: Settings,
    s: Session,
    drafts: Sequence[Draft],
    health: Mapping[str, Mapping[str, Any]],
    decisions: Mapping[str, Decision],
    now: dt.datetime,
    today: dt.date,
    in_scope: Callable[[Proposal], bool],
) -> ReviewStep:
    """Apply decisions, expire and withdraw, and split this run's drafts into approved
    (to send as proposed), not under review (to send), and to propose."""
    step = ReviewStep()
    every = _decided(s, decisions, now, step)
    ground = Ground(
        {k: d for d in drafts for k in d.keys},
        s.journal.states(k for p in every.values() if p.status in OPEN for k in p.keys),
        health,
        frozenset(s.tables.blocked),
        referral_rows(s.tables.referrals),
        today,
        settings.mail.review_expires_days,
    )
    for p in list(every.values()):
        if p.status in OPEN and in_scope(p):  # else another job's (a campaign's, a kind's)
            _judge(p, ground, every, step, s.run_id, now)
    # Open proposals hold their keys; so do those closed this run (a skip, an expiry), whose
    # keys were still due when this run decided and would otherwise be proposed again.
    held = {k for p in every.values() if p.status in OPEN for k in p.keys}
    held |= {k for p in step.changed.values() for k in p.keys}
    split(settings, s, [d for d in drafts if not any(k in held for k in d.keys)], step)
    step.proposals = list(every.values())
    return step


def _decided(
    s: Session, decisions: Mapping[str, Decision], now: dt.datetime, step: ReviewStep
) -> dict[str, Proposal]:
    """Every proposal by ident, the decisions applied; those whose review email never went
    are listed again in this run's review email."""
    every = {p.ident: p for p in s.journal.proposals()}
    step.changed, step.entries = decide(every, decisions, "", now, s.run_id)
    every.update(step.changed)
    for p in unseen(s, every.values()):
        every[p.ident] = step.changed[p.ident] = replace(p, number=0, review_id="")
    return every


def _judge(
    p: Proposal,
    ground: Ground,
    every: dict[str, Proposal],
    step: ReviewStep,
    run_id: str,
    now: dt.datetime,
) -> None:
    """One open proposal of this run's scope settled into `every` and `step`."""
    if p.status == "later" and dt.date.fromisoformat(p.later_until) <= ground.today:
        p = every[p.ident] = step.changed[p.ident] = replace(p, status="waiting", number=0)
    verdict, why = ground.verdict(p)
    if verdict == Status.SENT:
        every[p.ident] = step.changed[p.ident] = replace(p, status=Status.SENT, detail=why)
    elif verdict == Status.WITHDRAWN:
        every[p.ident] = step.changed[p.ident] = replace(p, status=Status.WITHDRAWN, detail=why)
        step.entries += moved(p, Status.WITHDRAWN, why, now, run_id)
    elif p.status != "approved":
        return
    elif verdict == "due":
        step.approved.append(as_proposed(ground.due[p.keys[0]], p))
        step.approved_by_ident[p.ident] = p
    elif why:  # not due today for a reason that passes (spacing, away): it waits
        step.notes.append(f"the approved {about(p)} waits: it is not due today")


def split(settings: Settings, s: Session, drafts: Sequence[Draft], step: ReviewStep) -> None:
    """This run's drafts no proposal holds: to propose (under review) or to send. The one
    at-most-once gate (EMAIL.md): a key the journal of any sheet this project used holds
    as gone or handled is never proposed, so the user is never asked to approve it."""
    known = s.journal.states(k for d in drafts for k in d.keys)
    foreign = s.journal.foreign(k for k, state in known.items() if state in NEVER_AGAIN)
    for d in drafts:
        if not under_review(d.kind, settings.mail.review):
            step.to_send.append(d)  # deliver() refuses it the same way
        elif any(known.get(k) in NEVER_AGAIN for k in d.keys):
            step.notes.append(not_proposed(d, bool(foreign.intersection(d.keys))))
        else:
            step.to_propose.append(d)


def referral_rows(referrals: pd.DataFrame) -> set[tuple[str, str]]:
    """(partner, ISO day) of every referral row: a proposal about one that is gone is
    withdrawn, saying so."""
    if referrals.empty:
        return set()
    days = pd.to_datetime(referrals["date"], errors="coerce")
    return {
        (str(e).strip().lower(), d.date().isoformat())
        for e, d in zip(referrals["partner_email"], days, strict=True)
        if not pd.isna(d)
    }


def unseen(s: Session, proposals: Iterable[Proposal]) -> list[Proposal]:
    """Waiting proposals whose review email did not go (the mail server was down, the run
    stopped first): they must not lapse without the owner having seen them."""
    listed = [p for p in proposals if p.status == "waiting" and p.number and p.review_id]
    went = s.journal.message_states(p.review_id for p in listed)
    return [p for p in listed if went.get(p.review_id) not in (*GONE, Status.WRITTEN)]


def as_proposed(due: Draft, p: Proposal) -> Draft:
    """Today's draft narrowed to what the user approved: the proposal's own keys (EMAIL.md:
    what became due since, a referral typed in meanwhile, is proposed anew once it went)."""
    return replace(due, keys=p.keys, key_partners=p.partners)


def not_proposed(d: Draft, elsewhere: bool) -> str:
    """Why a due email is not proposed: its key went already (EMAIL.md, at most once)."""
    where = (
        " for another sheet this project used before; `partners carry-over` brings that "
        "history into this sheet's Log"
        if elsewhere
        else ""
    )
    return (
        f"not proposed: {d.kind} to {d.to_email}: the journal already records it as sent, "
        f"pending, uncertain or handled{where}"
    )
