"""Who a partner email goes to besides the partner, and how many a run may send.

`[mail] cc_owner` and `bcc` add recipients; `max_per_day` counts recipients (To, Cc and
Bcc), as the providers count their daily limits (FIELD-NOTES.md: Gmail's 500 recipients a
day), while `--limit` and `max_per_run` count messages (EMAIL.md, "Backends" and
"Copies, windows and alerts").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from automations.adapters.state import Journal
from automations.config import Settings
from automations.core.mail.draft import Draft
from automations.core.messages import comparable_email, wire_email
from automations.jobs.wiring import mail_capabilities


def with_copies(draft: Draft, settings: Settings, sender: str) -> Draft:
    """A partner email with `[mail] cc_owner` (the owner in Cc when not the sender) and
    `[mail] bcc`; owners' mail goes without (EMAIL.md, "Copies, windows and alerts")."""
    if draft.internal:
        return draft
    owner = draft.context.get("owner") or {}
    email = str(owner.get("email") or "").lower()
    # Compared in one form: an owner written in punycode may be the partner or the sender.
    taken = {comparable_email(draft.to_email), comparable_email(sender)}
    cc: tuple[tuple[str, str], ...] = ()
    if settings.mail.cc_owner and email and comparable_email(email) not in taken:
        cc = ((str(owner.get("name") or ""), email),)
    partner = comparable_email(draft.to_email)
    bcc = tuple(b.lower() for b in settings.mail.bcc if comparable_email(b) != partner)
    return replace(draft, cc=cc, bcc=bcc) if cc or bcc else draft


def copies_of(draft: Draft) -> tuple[str, ...]:
    """The copies' addresses as they travel (SMTP RCPT): Cc (the owner), then Bcc, one per
    mailbox however the config or the sheet spells it, never the partner again."""
    listed = [email for _, email in draft.cc] + list(draft.bcc)
    seen = {comparable_email(draft.to_email)}
    out = []
    for email in listed:
        if comparable_email(email) not in seen:
            seen.add(comparable_email(email))
            out.append(wire_email(email))
    return tuple(out)


@dataclass
class Caps:
    """How many may go this run: --limit and max_per_run (messages), and what is left of
    max_per_day (recipients)."""

    limit: int | None = None
    per_run: int | None = None
    day_room: int | None = None
    recipients: Callable[[Draft], int] = lambda draft: 1

    @classmethod
    def for_run(
        cls, settings: Settings, journal: Journal, now: dt.datetime, limit: int | None
    ) -> Caps:
        """--limit (or a campaign's), and on SMTP max_per_run and what max_per_day leaves."""
        caps = cls(limit=limit)
        if mail_capabilities(settings).capped:
            caps.per_run = settings.mail.max_per_run
            sent = journal.sent_since(now - dt.timedelta(hours=24))
            caps.day_room = settings.mail.max_per_day - sent
            sender = settings.sender.email
            caps.recipients = lambda d: 1 + len(copies_of(with_copies(d, settings, sender)))
        return caps

    def split(self, drafts: Sequence[Draft]) -> tuple[list[Draft], list[Draft], str]:
        """(to send now, held for the next run, which cap held them), most important first.

        Applied before rendering: a run renders what it may send, not every draft due
        (31,000 on a 100,000-partner sheet), and the rest wait for the next run. The first
        email that does not fit holds back every one after it: none jumps the queue."""
        ordered = sorted(drafts, key=lambda d: (d.priority, -d.score))
        room, why = len(ordered), ""
        for bound, name in [(self.limit, "--limit"), (self.per_run, "max_per_run")]:
            if bound is not None and max(bound, 0) < room:
                room, why = max(bound, 0), name
        if self.day_room is not None:
            left = self.day_room
            for n, draft in enumerate(ordered[:room]):
                left -= self.recipients(draft)
                if left < 0:
                    room, why = n, "max_per_day (rolling 24 hours, counted in recipients)"
                    break
        return ordered[:room], ordered[room:], why


def partners_in_bcc(settings: Settings, partners: Iterable[str]) -> list[str]:
    """`[mail] bcc` addresses that are partners' own: each would get a copy of every other
    partner's email (EMAIL.md, copies), so a run that sends stops on them (said plainly)."""
    known = {comparable_email(str(p)) for p in partners if p}
    return [
        f"[mail] bcc {b!r} is a partner's address: they would get a copy of every email to "
        "the other partners; take it out of [mail] bcc (nothing was sent)"
        for b in settings.mail.bcc
        if comparable_email(b) in known
    ]
