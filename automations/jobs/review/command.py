"""`partners review`: the proposals waiting for approval, decided in the terminal or by keys
(CLI.md; EMAIL.md, "Review before sending"), and what was approved sent at once."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from automations.adapters.lock import RunLock
from automations.adapters.state import Journal
from automations.config import Settings
from automations.core.messages import comparable_email
from automations.core.review import OPEN, Decision, Proposal, review_order
from automations.errors import LockHeldError, ReviewError
from automations.jobs.review.decisions import apply_kept
from automations.jobs.sending import Clock, stamp
from automations.jobs.wiring import open_backend, state_dir


def _journal(settings: Settings, writing: bool) -> Journal:
    path = state_dir(settings) / "journal.sqlite3"
    if not writing and not path.exists():
        return Journal(Path(":memory:"))
    backend = open_backend(settings)
    return Journal(path, backend.identity, backend.former_identities)


def waiting(settings: Settings) -> list[Proposal]:
    """The open proposals (waiting, approved, later), oldest first."""
    journal = _journal(settings, writing=False)
    try:
        found = [p for p in journal.proposals() if p.status in OPEN]
    finally:
        journal.close()
    return sorted(found, key=review_order)  # numbered as in the review email


def shown(p: Proposal) -> str:
    """A proposal as it would be sent: its headers and its text, as the partner reads it."""
    msg = email.message_from_bytes(p.data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    head = [f"{h}: {msg[h]}" for h in ("From", "To", "Cc", "Subject") if msg[h]]
    # What no header says but the approval sends to as well: the Bcc copies.
    cc = {comparable_email(a) for _, a in getaddresses([str(msg["Cc"] or "")])}
    hidden = [c for c in p.copies or () if comparable_email(c) not in cc]
    if hidden:
        head.insert(-1, f"Bcc: {', '.join(hidden)}")
    return "\n".join([*head, "", str(text).rstrip()])


@dataclass
class Recorded:
    """What `partners review` recorded."""

    applied: list[tuple[Proposal, Decision]] = field(default_factory=list)
    approved: int = 0
    deferred: bool = False  # another run holds the lock: kept, applied by a later run


def keep(settings: Settings, pid: str, decision: Decision, clock: Clock) -> None:
    """Keep one decision on proposal `pid` the moment the user makes it (no run lock
    needed): an interrupted review, or one made while a scheduled run works, loses nothing,
    and it never passes to a later proposal of the same keys (EMAIL.md, review)."""
    journal = _journal(settings, writing=True)
    try:
        journal.keep_decision(pid, decision, "in the terminal", stamp(clock()))
    finally:
        journal.close()


def record(settings: Settings, chosen: Mapping[str, Decision], clock: Clock) -> Recorded:
    """Keep decisions given by key (any key of a proposal) or by proposal ident, then apply
    them under the run lock (or leave them to the run holding it); a key that names no open
    proposal stops everything before any change."""
    now = clock()
    journal = _journal(settings, writing=True)
    try:
        every = journal.proposals()
        open_ = {p.ident: p for p in every if p.status in OPEN}
        by_key = {k: p for p in open_.values() for k in p.keys}
        by_key.update(open_)
        # Chosen in an interactive review while another run sent or settled it: nothing
        # to record (the decision was kept as it was made, and came too late to matter).
        settled = {p.ident for p in every if p.status not in OPEN}
        chosen = {k: d for k, d in chosen.items() if k not in settled}
        unknown = [k for k in chosen if k not in by_key]
        if unknown:
            raise ReviewError(
                f"no proposal waiting for approval has the key {unknown[0]!r}; "
                "`partners review` lists them with their keys"
            )
        decisions = {by_key[k].ident: d for k, d in chosen.items()}
        for ident, decision in decisions.items():
            journal.keep_decision(open_[ident].pid, decision, "in the terminal", stamp(now))
    finally:
        journal.close()
    try:
        with RunLock(state_dir(settings) / "run.lock"):
            journal = _journal(settings, writing=True)
            try:
                run_id = f"review-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
                changed, _ = apply_kept(journal, now, run_id)
            finally:
                journal.close()
    except LockHeldError:
        return Recorded([(open_[i], d) for i, d in decisions.items()], deferred=True)
    out = Recorded([(open_[i], decisions[i]) for i in changed if i in decisions])
    out.approved = sum(1 for p in changed.values() if p.status == "approved")
    return out
