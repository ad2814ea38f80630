"""Review before sending (EMAIL.md, "Review before sending"): proposing what is under
review, applying the user's decisions (Review tab, `partners review`, a reply to the review
email), and handing what was approved, still due, to the sending run."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pandas as pd

from automations.adapters.sheet import ReviewTable
from automations.adapters.state import Entry
from automations.config import Settings
from automations.core.compose import INTERNAL_KINDS, Draft
from automations.core.render import Rendered, Templates
from automations.core.review import (
    OPEN,
    Decision,
    Proposal,
    about,
    held_by_a_row,
    referral_days,
    review_order,
    under_review,
    withdraw_reason,
)
from automations.core.vocabulary import NEVER_AGAIN
from automations.jobs.envelope import Caps, copies_of, with_copies
from automations.jobs.proposals import apply_kept, decide, moved, owed_answers
from automations.jobs.proposing import proposals_of, review_emails
from automations.jobs.review_cells import sheet_decisions
from automations.jobs.sending import (
    DeliveryReport,
    Prepared,
    prepare,
)
from automations.jobs.session import Session
from automations.jobs.wiring import letterhead

GONE = ("sent", "pending", "uncertain")  # journal states of a key that went, or may have


@dataclass(frozen=True)
class Approved(Prepared):
    """An approved proposal: the exact bytes the user saw, with the Date of the send."""

    data: bytes = b""
    envelope: tuple[str, ...] | None = None  # the copies it was proposed with

    @property
    def copies(self) -> tuple[str, ...]:
        """The copies it was proposed with: a config changed since adds or drops none."""
        return copies_of(self.draft) if self.envelope is None else self.envelope

    def as_bytes(self) -> bytes:
        """The stored message, its Date header refreshed (EMAIL.md: Date refreshed)."""
        date = format_datetime(self.now).encode()
        head, sep, body = self.data.partition(b"\r\n\r\n")
        head = re.sub(rb"(?m)^Date: [^\r\n]*", b"Date: " + date, head, count=1)
        return head + sep + body

    @property
    def message(self) -> EmailMessage:
        """The message as it is sent (for previews)."""
        parsed = email.message_from_bytes(self.as_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


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
    every = {p.ident: p for p in s.journal.proposals()}
    step.changed, step.entries = decide(every, decisions, "", now, s.run_id)
    every.update(step.changed)
    for p in unseen(s, every.values()):  # listed again in this run's review email
        every[p.ident] = step.changed[p.ident] = replace(p, number=0, review_id="")
    due = {k: d for d in drafts for k in d.keys}
    states = s.journal.states(k for p in every.values() if p.status in OPEN for k in p.keys)
    expires = dt.timedelta(days=settings.mail.review_expires_days)
    referred = referral_rows(s.tables.referrals)
    for p in list(every.values()):
        if p.status not in OPEN or not in_scope(p):  # another job's (a campaign's, a kind's)
            continue
        if p.status == "later" and dt.date.fromisoformat(p.later_until) <= today:
            p = every[p.ident] = step.changed[p.ident] = replace(p, status="waiting", number=0)
        start = dt.date.fromisoformat(p.later_until) if p.later_until else p.proposed_day
        went = next((states[k] for k in p.keys if states.get(k) in GONE), "")
        if went:  # a run killed mid-send: the journal knows it went (or may have)
            every[p.ident] = step.changed[p.ident] = replace(p, status="sent", detail=went)
            continue
        if p.status == "waiting" and today - start > expires:
            why = f"expired: nobody decided within {settings.mail.review_expires_days} days"
        elif not all(k in due for k in p.keys):
            partner = p.partners[0] if p.partners else p.to_email
            if held_by_a_row(health.get(partner), partner in s.tables.blocked):
                continue  # a row to fix is this run's problem, not a lasting reason: it waits
            gone = [day for who, day in referral_days(p) if (who, day) not in referred]
            why = withdraw_reason(health.get(partner), p, today, gone)
            if not why:  # not due today for a reason that passes (spacing, away): it waits
                if p.status == "approved":
                    step.notes.append(f"the approved {about(p)} waits: it is not due today")
                continue
        else:
            if p.status == "approved":
                step.approved.append(as_proposed(due[p.keys[0]], p))
                step.approved_by_ident[p.ident] = p
            continue
        every[p.ident] = step.changed[p.ident] = replace(p, status="withdrawn", detail=why)
        step.entries += moved(p, "withdrawn", why, now, s.run_id)
    # Open proposals hold their keys; so do those closed this run (a skip, an expiry), whose
    # keys were still due when this run decided and would otherwise be proposed again.
    held = {k for p in every.values() if p.status in OPEN for k in p.keys}
    held |= {k for p in step.changed.values() for k in p.keys}
    split(settings, s, [d for d in drafts if not any(k in held for k in d.keys)], step)
    step.proposals = list(every.values())
    return step


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
    return [p for p in listed if went.get(p.review_id) not in (*GONE, "written")]


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


def table_of(proposals: Iterable[Proposal], new: Iterable[Proposal]) -> ReviewTable:
    """The Review tab's rows, oldest first; this run's proposals marked new."""
    ordered = sorted(proposals, key=lambda p: (p.proposed_at, p.ident))
    return ReviewTable([p.row() for p in ordered], {p.pid for p in new})


def approved_prepared(
    settings: Settings, step: ReviewStep, kept: Sequence[Draft], now: dt.datetime
) -> list[Prepared]:
    """The approved proposals the caps let through, as their stored bytes (nothing is
    rendered again: the user approved what they saw)."""
    by_first_key = {p.keys[0]: p for p in step.approved_by_ident.values()}
    head = letterhead(settings)
    out: list[Prepared] = []
    for d in kept:
        p = by_first_key.get(d.keys[0])
        if p is None:
            continue
        stored = email.message_from_bytes(p.data, policy=email.policy.default)
        assert isinstance(stored, EmailMessage)
        body = stored.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        rendered = Rendered(p.subject, str(text), "")
        if p.copies is None:  # proposed by an earlier version: the copies as it sent them
            d = with_copies(d, settings, head.sender.email)
        out.append(
            Approved(d, rendered, p.subject, p.ident, head.sender, {}, now, p.data, p.copies)
        )
    return out


@dataclass
class ReviewRun:
    """A sending run's emails once review has had its say."""

    ready: list[Prepared] = field(default_factory=list)  # approved, not reviewed, reviews
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
    run.ready = approved_prepared(settings, step, [d for d in kept if d.keys in approved_keys], now)
    run.ready += plain.ready
    run.faults = plain.faults
    returning = [p for p in step.changed.values() if p.status == "waiting" and not p.number]
    if not approved_only and (step.to_propose or returning):
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
    if not approved_only:
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
            and delivery.status in ("sent", "written", "uncertain")
        ):
            done.append(replace(proposal, status="sent", detail=delivery.status))
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
