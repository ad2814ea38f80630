"""An approved proposal as it goes (EMAIL.md, "Review before sending"): the proposal's own
bytes, keys and partners, nothing rendered again; only the Date is refreshed."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from automations.config import Settings
from automations.core.mail.draft import Draft
from automations.core.messages import wire_email
from automations.core.review import Proposal
from automations.jobs.envelope import copies_of, with_copies
from automations.jobs.wiring import letterhead


@dataclass(frozen=True)
class Approved:
    """What the user approved, as it is sent: the proposal carries the message; `draft` is
    today's draft of the same keys, read by the caps, the window and the output."""

    proposal: Proposal
    draft: Draft
    now: dt.datetime  # the send's Date

    @property
    def keys(self) -> tuple[str, ...]:
        """The proposal's keys: what the user approved is what is recorded as sent."""
        return self.proposal.keys

    @property
    def partners(self) -> tuple[str, ...]:
        """The proposal's partner of each key."""
        return self.proposal.partners

    @property
    def subject(self) -> str:
        """The Subject the user saw."""
        return self.proposal.subject

    @property
    def message_id(self) -> str:
        """The proposal's Message-ID (its ident)."""
        return self.proposal.ident

    @property
    def copies(self) -> tuple[str, ...]:
        """The copies it was proposed with: a config changed since adds or drops none."""
        stored = self.proposal.copies
        return copies_of(self.draft) if stored is None else stored

    @property
    def recipient(self) -> str:
        """The address the proposal was made for, as it travels."""
        return wire_email(self.proposal.to_email)

    @property
    def name(self) -> str:
        """kind-recipient-id: how the outbox names the file."""
        ident = self.message_id.strip("<>").split("@")[0].removeprefix("pa.")[:12]
        return f"{self.proposal.kind}-{self.proposal.to_email}-{ident}"

    def as_bytes(self) -> bytes:
        """The stored message, its Date header refreshed (EMAIL.md: Date refreshed)."""
        date = format_datetime(self.now).encode()
        head, sep, body = self.proposal.data.partition(b"\r\n\r\n")
        head = re.sub(rb"(?m)^Date: [^\r\n]*", b"Date: " + date, head, count=1)
        return head + sep + body

    @property
    def message(self) -> EmailMessage:
        """The message as it is sent (for people to read)."""
        parsed = email.message_from_bytes(self.as_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def text(self) -> str:
        """The stored plain text."""
        return self._part("plain")

    @property
    def html(self) -> str:
        """The stored HTML part, "" when it has none."""
        return self._part("html")

    def _part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        return str(body.get_content()) if body is not None else ""


def approvals(
    settings: Settings,
    approved: Sequence[Proposal],
    kept: Sequence[Draft],
    now: dt.datetime,
) -> list[Approved]:
    """The approved proposals the caps let through (`kept`: their drafts), as stored."""
    by_first_key = {p.keys[0]: p for p in approved}
    sender = letterhead(settings).sender.email
    out: list[Approved] = []
    for d in kept:
        p = by_first_key.get(d.keys[0])
        if p is None:
            continue
        if p.copies is None:  # proposed by an earlier version: the copies as it sent them
            d = with_copies(d, settings, sender)
        out.append(Approved(p, d, now))
    return out
