"""The proposals in the journal and the decisions that move them (EMAIL.md, "Review before
sending"), including a reply to the review email, which the inbox scan applies."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Mapping
from dataclasses import replace
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from automations.adapters.journal import Entry, Journal
from automations.core.optout import own_words
from automations.core.review import OPEN, Decision, Proposal, parse_reply
from automations.jobs.sending import stamp

EXAMPLES = "send all, send 1 3, skip 2, later 4 2027-01-10"


def moved(p: Proposal, status: str, detail: str, now: dt.datetime, run_id: str) -> list[Entry]:
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
            changed[ident] = replace(p, status="skipped", detail=f"skipped {how}")
            entries += moved(p, "skipped", f"skipped in review ({how})", now, run_id)
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


def apply_reply(raw: bytes, journal: Journal, now: dt.datetime, run_id: str) -> list[Entry] | None:
    """A reply to a review email, applied (its Log rows: one `review` row saying what was
    done or why nothing was, and the `skipped` rows); None when the message is not one."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    refs = " ".join(str(msg.get(h, "")) for h in ("In-Reply-To", "References")).split()
    sender = next((a.lower() for _, a in getaddresses([str(msg.get("From", ""))]) if a), "")
    proposals = journal.proposals()
    asked = {p.review_id: p.owner for p in proposals if p.review_id}
    answered = next((r for r in refs if r in asked), "")
    if not answered and sender not in set(asked.values()):
        return None
    said = parse_reply(own_words(msg))
    if not answered and said.empty:
        return None  # an owner's ordinary email: not ours to read
    ident = str(msg.get("Message-ID", "")).strip() or f"review-reply:{stamp(now)}"
    try:
        when = min(parsedate_to_datetime(str(msg["Date"])), now)
    except (TypeError, ValueError):
        when = now

    def row(detail: str) -> Entry:
        subject = str(msg.get("Subject", ""))[:200]
        return Entry(stamp(when), run_id, "review", "", ident, "", subject, "", "reply", detail)

    if not answered:
        return [row(f"ignored: from {sender}, but not a reply to a review email")]
    if sender != asked[answered]:
        return [row(f"ignored: from {sender}, not from {asked[answered]}, who was asked")]
    if said.empty:
        return [row(f"ignored: no decision in it (write for example: {EXAMPLES})")]
    listed = {p.number: p for p in proposals if p.review_id == answered}
    decisions = {}
    for number, p in listed.items():
        decision = said.for_number(number)
        if decision is not None:
            decisions[p.ident] = decision
    changed, entries = decide(
        {p.ident: p for p in listed.values()}, decisions, f"by reply from {sender}", now, run_id
    )
    journal.keep_proposals(changed.values())
    unknown = sorted(set(said.by_number) - set(listed))
    detail = f"applied: {said.said()}"
    if unknown:
        detail += f"; no email numbered {', '.join(map(str, unknown))} in that review email"
    if said.ignored:
        detail += f"; ignored the words {' '.join(said.ignored[:12])!r}"
    return [row(detail), *entries]
