"""The decisions that move proposals (EMAIL.md, "Review before sending"): send, skip,
later, and a conflict that waits; and the decisions kept from the terminal, applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from automations.adapters.state import Entry, Journal
from automations.core.review import OPEN, Decision, Proposal
from automations.core.vocabulary import Status
from automations.jobs.sending import stamp


def moved(p: Proposal, status: Status, detail: str, now: dt.datetime, run_id: str) -> list[Entry]:
    """The Log rows of a proposal's keys in a new state (one per key)."""
    return [
        Entry(
            stamp(now), run_id, p.kind, partner, key, p.template, p.subject, p.ident, status, detail
        )
        for key, partner in zip(p.keys, p.partners, strict=True)
    ]


def decide(
    proposals: Mapping[str, Proposal],
    decisions: Mapping[str, Decision],
    how: str,
    now: dt.datetime,
    run_id: str,
) -> tuple[dict[str, Proposal], list[Entry]]:
    """Apply decisions (by proposal ident) to open proposals: send → approved, skip →
    skipped for good (Log `skipped`), later → later until a day, wait (decisions in
    conflict) → waiting, not sent until decided again."""
    changed: dict[str, Proposal] = {}
    entries: list[Entry] = []
    for ident, decision in decisions.items():
        p = proposals.get(ident)
        if p is None or p.status not in OPEN:
            continue
        if decision.verb == "send" and p.status != "approved":
            changed[ident] = replace(p, status="approved", detail=f"approved {how}")
        elif decision.verb == "skip":
            changed[ident] = replace(p, status=Status.SKIPPED, detail=f"skipped {how}")
            entries += moved(p, Status.SKIPPED, f"skipped in review ({how})", now, run_id)
        elif decision.verb == "wait" and p.status != "waiting":  # decisions in conflict
            changed[ident] = replace(p, status="waiting", detail="decisions in conflict")
        elif decision.verb == "later" and decision.until is not None:
            until = decision.until.isoformat()
            if p.status != "later" or p.later_until != until:
                changed[ident] = replace(p, status="later", later_until=until, detail=how)
    return changed, entries


def apply_kept(
    journal: Journal, now: dt.datetime, run_id: str
) -> tuple[dict[str, Proposal], list[Entry]]:
    """The decisions kept from the terminal applied to their own proposals (a decision
    never passes to another proposal of the same keys), kept in the journal, then forgotten."""
    kept = journal.kept_decisions()
    if not kept:
        return {}, []
    every = {p.ident: p for p in journal.proposals()}
    by_pid = {p.pid: p.ident for p in every.values()}
    changed: dict[str, Proposal] = {}
    entries: list[Entry] = []
    for made_for, (decision, how) in kept.items():
        # Kept by proposal id; an earlier version kept the Message-ID, which it named then.
        ident = by_pid.get(made_for, made_for if made_for.startswith("<") else "")
        moved_now, said = decide(every, {ident: decision}, how, now, run_id)
        changed.update(moved_now)
        every.update(moved_now)
        entries += said
    journal.keep_proposals(changed.values())
    journal.record(entries)  # the skips reach the Log with the next run's write
    journal.drop_decisions(kept)
    return changed, entries
