"""Contact that records itself (RULES.md, "Snooze, out of office, touches that record
themselves"): the user's own emails to partners found in the Sent folder, and calendar
meetings with partners, as touches the Log records once.

Pure: takes message bytes or calendar events already read, and what the toolkit knows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email import message_from_bytes, policy

from automations.core.replies import addresses, header_text, sent_at
from automations.core.vocabulary import Status

# The toolkit's own Message-IDs (core.messages.message_id): never the user's own email.
_OURS = re.compile(r"<pa\.[0-9a-f]{32}@[^>]+>")


@dataclass(frozen=True)
class Touch:
    """A contact with a partner that nobody typed: `emailed` (outgoing) or `meeting`."""

    status: Status
    partner_email: str
    when: dt.datetime
    key: str  # recorded once: the same key is never written twice
    subject: str
    detail: str
    message_id: str = ""


def sent_touches(
    raw: bytes, partners: frozenset[str], ours: Mapping[str, str], folder: str
) -> list[Touch]:
    """The partners the user wrote to in this message from their Sent folder (To or Cc),
    unless the toolkit sent it; empty for anything else."""
    msg = message_from_bytes(raw, policy=policy.default)
    ident = header_text(msg, "Message-ID").strip()
    if ident in ours or _OURS.fullmatch(ident):
        return []
    when = sent_at(msg)
    if when is None:
        return []
    subject = " ".join(header_text(msg, "Subject").split())[:200]
    to = dict.fromkeys(a for a in addresses(msg, "To", "Cc") if a in partners)
    return [
        Touch(
            Status.EMAILED,
            partner,
            when,
            f"emailed:{partner}:{ident or when.isoformat()}",
            subject,
            f"you wrote to {partner} ({folder}, {when:%Y-%m-%d})",
            ident,
        )
        for partner in to
    ]


@dataclass(frozen=True)
class Event:
    """One occurrence of a calendar event, as the calendar adapter read it."""

    uid: str
    start: dt.datetime  # aware
    summary: str
    attendees: Mapping[str, str]  # email (lower case) -> PARTSTAT (ACCEPTED, DECLINED, …)
    organizer: str = ""
    cancelled: bool = False


def meetings(events: Iterable[Event], partners: frozenset[str], now: dt.datetime) -> list[Touch]:
    """Past, not cancelled events that a partner organised or accepted (PARTSTAT=ACCEPTED):
    one `meeting` touch per partner and day, the day's first (RULES.md). An invitation left
    unanswered (NEEDS-ACTION), declined or only tentative is no contact."""
    first: dict[tuple[str, dt.date], Event] = {}
    for event in events:
        if event.cancelled or event.start > now:
            continue
        people = {a for a, s in event.attendees.items() if a in partners and s == "ACCEPTED"}
        if event.organizer in partners:
            people.add(event.organizer)
        day = event.start.astimezone(now.tzinfo).date()
        for partner in people:
            known = first.get((partner, day))
            if known is None or (event.start, event.uid) < (known.start, known.uid):
                first[(partner, day)] = event
    return [
        Touch(
            Status.MEETING,
            partner,
            event.start,
            f"meeting:{partner}:{event.uid}:{event.start.isoformat()}",
            event.summary[:200],
            f"a meeting in your calendar on {event.start:%Y-%m-%d}",
        )
        for (partner, _), event in sorted(first.items(), key=lambda i: (i[1].start, i[0][0]))
    ]
