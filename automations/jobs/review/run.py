"""A sending run's review (EMAIL.md, "Review before sending"): the step settled, new
proposals and their review emails made, what goes now within the caps, and after
delivery the approved proposals that went marked `sent`; in a dry run, all in memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from automations.adapters.sheet import ReviewTable
from automations.adapters.state import Entry
from automations.config import Settings
from automations.core.mail.draft import Draft
from automations.core.render import Templates
from automations.core.review import OPEN, Proposal, review_order
from automations.core.vocabulary import INTERNAL_KINDS, Status
from automations.jobs.envelope import Caps
from automations.jobs.review.approved import Approved, approvals
from automations.jobs.review.cells import sheet_decisions
from automations.jobs.review.decisions import apply_kept
from automations.jobs.review.proposing import proposals_of, review_emails
from automations.jobs.review.reply import owed_answers
from automations.jobs.review.step import ReviewStep, settle
from automations.jobs.sending import DeliveryReport, Outgoing, prepare
from automations.jobs.session import Session
from automations.jobs.wiring import letterhead


def table_of(proposals: Iterable[Proposal], new: Iterable[Proposal]) -> ReviewTable:
    """The Review tab's rows, oldest first; this run's proposals marked new."""
    ordered = sorted(proposals, key=lambda p: (p.proposed_at, p.ident))
    return ReviewTable([p.row() for p in ordered], {p.pid for p in new})


@dataclass
class ReviewRun:
    """A sending run's emails once review has had its say."""

    ready: list[Outgoing] = field(default_factory=list)  # approved, not reviewed, reviews
    held: list[Draft] = field(default_factory=list)
    held_by: str = ""
    faults: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    proposed: list[Proposal] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)  # proposed, skipped, withdrawn
    proposals: dict[str, Proposal] = field(default_factory=dict)  # every one, as it stands
    unplaced: list[Proposal] = field(default_factory=list)  # open, their Review row unwritten

    @property
    def waiting(self) -> list[Proposal]:
        """Open proposals: what waits for the user."""
        return [p for p in self.proposals.values() if p.status in OPEN]

    def table(self) -> ReviewTable:
        """The Review tab as it stands; new rows: this run's proposals and open ones whose
        row a failed write never placed."""
        return table_of(self.proposals.values(), [*self.proposed, *self.unplaced])


def prepare_run(
    settings: Settings,
    s: Session,
    drafts: Sequence[Draft],
    templates: Templates,
    health: pd.DataFrame,
    now: dt.datetime,
    today: dt.date,
    limit: int | None,
    approved_only: bool = False,
    in_scope: Callable[[Proposal], bool] = lambda p: True,
) -> ReviewRun:
    """Decisions applied, proposals settled, new ones made (and their review emails), and
    what goes now within the caps: approved ones as stored, the rest rendered."""
    apply_kept(s.journal, now, s.run_id)  # decisions made in the terminal meanwhile
    known = s.journal.proposals()
    decisions, notes = sheet_decisions(s, settings, known, today)
    step = settle(settings, s, drafts, health_of(health, known), decisions, now, today, in_scope)
    run = ReviewRun(notes=notes + step.notes, entries=list(step.entries))
    run.proposals = {p.ident: p for p in step.proposals}
    caps = Caps.for_run(settings, s.journal, now, limit)
    pool = step.approved + ([] if approved_only else step.to_send)
    kept, run.held, run.held_by = caps.split(pool)
    approved_keys = {d.keys for d in step.approved}
    plain = prepare([d for d in kept if d.keys not in approved_keys], templates, settings, now)
    approved = list(step.approved_by_ident.values())
    run.ready = [*approvals(settings, approved, [d for d in kept if d.keys in approved_keys], now)]
    run.ready += plain.ready
    run.faults = plain.faults
    if not approved_only:
        _propose(settings, s, step, run, templates, now, today)
        owed = owed_answers(s.journal, letterhead(settings), today)
        answered = prepare(owed, templates, settings, now)
        run.faults += answered.faults
        run.ready += answered.ready
    s.journal.record(run.entries)
    s.journal.keep_proposals([*step.changed.values(), *numbered_or_new(run)])
    placed = s.journal.placed()
    new = {p.ident for p in run.proposed}
    run.unplaced = [p for p in run.waiting if p.pid not in placed and p.ident not in new]
    return run


def _propose(
    settings: Settings,
    s: Session,
    step: ReviewStep,
    run: ReviewRun,
    templates: Templates,
    now: dt.datetime,
    today: dt.date,
) -> None:
    """New proposals kept with their exact message, and one review email per owner listing
    them with the returning ones (whose review email never went)."""
    returning = [p for p in step.changed.values() if p.status == "waiting" and not p.number]
    if not (step.to_propose or returning):
        return
    rendered = prepare(step.to_propose, templates, settings, now)
    run.faults += rendered.faults
    run.proposed, proposed_entries = proposals_of(
        rendered.ready, now, s.run_id, settings.sender.email
    )
    run.entries += proposed_entries
    reviews, numbered = review_emails(settings, run.proposed + returning, today, s.run_id)
    run.proposals.update((p.ident, p) for p in numbered)
    run.proposed = [run.proposals[p.ident] for p in run.proposed]
    made = prepare(reviews, templates, settings, now)
    run.faults += made.faults
    run.ready += made.ready


def health_of(health: pd.DataFrame, known: Sequence[Proposal]) -> dict[str, dict[str, Any]]:
    """The Health rows of the partners with an open proposal (why one is withdrawn)."""
    wanted = {p.partners[0] if p.partners else p.to_email for p in known if p.status in OPEN}
    rows = health[health["email"].isin(wanted)].to_dict("records") if wanted else []
    return {str(r["email"]): {str(k): v for k, v in r.items()} for r in rows}


def numbered_or_new(run: ReviewRun) -> list[Proposal]:
    """The proposals this run made or listed again in a review email."""
    return [p for p in run.proposals.values() if p.number and p.status == "waiting"]


def after_delivery(s: Session, run: ReviewRun, report: DeliveryReport) -> None:
    """Approved proposals that went (or may have) are `sent`; the others stay approved."""
    done = []
    for p, delivery in report.outcomes:
        proposal = run.proposals.get(p.message_id)
        if (
            isinstance(p, Approved)
            and proposal
            and delivery.status in (Status.SENT, Status.WRITTEN, Status.UNCERTAIN)
        ):
            done.append(replace(proposal, status=Status.SENT, detail=delivery.status))
    run.proposals.update((p.ident, p) for p in done)
    s.journal.keep_proposals(done)


def settled_in_memory(
    settings: Settings,
    s: Session,
    drafts: Sequence[Draft],
    health: pd.DataFrame,
    now: dt.datetime,
    today: dt.date,
    in_scope: Callable[[Proposal], bool],
) -> tuple[ReviewStep, list[Proposal], list[str]]:
    """The review step as the sending run would take it, recorded nowhere (a dry run,
    `health`; CLI.md): the step, the open proposals that do not go, the cells' notes."""
    known = s.journal.proposals()
    decisions, notes = sheet_decisions(s, settings, known, today)
    step = settle(settings, s, drafts, health_of(health, known), decisions, now, today, in_scope)
    going = set(step.approved_by_ident)
    open_ = [p for p in step.proposals if p.status in OPEN and in_scope(p)]
    return step, sorted((p for p in open_ if p.ident not in going), key=review_order), notes


def mark_waiting(health: pd.DataFrame, waiting: Iterable[Proposal]) -> pd.DataFrame:
    """Health's reason says when a partner's email waits for approval (EMAIL.md)."""
    since: dict[str, tuple[str, str]] = {}
    for p in waiting:
        who = p.partners[0] if p.partners and p.kind not in INTERNAL_KINDS else p.to_email
        since.setdefault(who, (p.kind.replace("_", "-"), p.proposed_at[:10]))
    if not since:
        return health
    frame = health.copy()
    rows = frame["email"].isin(list(since))
    frame.loc[rows, "reason"] = [
        f"{reason}; the {since[e][0]} email waits for your approval since {since[e][1]}"
        if reason
        else f"the {since[e][0]} email waits for your approval since {since[e][1]}"
        for reason, e in zip(frame.loc[rows, "reason"], frame.loc[rows, "email"], strict=True)
    ]
    return frame
