"""What an incoming message means: a partner's reply, a bounce, an unsubscribe, or nothing.

Pure: takes the message bytes and what the toolkit knows (partner addresses, the
Message-IDs it sent and to whom, its own unsubscribe address), returns a verdict.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from automations.core.autoreply import is_automatic
from automations.core.optout import Cut, asks_to_stop, own_words
from automations.core.returnday import return_day

_IDS = re.compile(r"<[^<>\s]+>")
UNREADABLE = "unreadable"  # a verdict for a message that could not be read at all


@dataclass(frozen=True)
class Known:
    """What the toolkit knows to recognise its correspondents."""

    partners: frozenset[str]  # partner emails, lower case
    sent_ids: Mapping[str, str]  # our Message-ID -> the partner it went to
    unsubscribe_address: str  # where List-Unsubscribe mail arrives
    copies: frozenset[str] = frozenset()  # the owners in Cc and the Bcc addresses
    cut: Cut | None = None  # the quote stripper (adapters.replytext), else the built-in one
    date_order: str = ""  # the sheet's date order settles `01/05/2027` in a return day


@dataclass(frozen=True)
class Verdict:
    """One message read: `reply`, `bounce`, `unsubscribe` or `ignored`, with its facts."""

    kind: str
    partner_email: str = ""
    message_id: str = ""
    when: dt.datetime | None = None
    detail: str = ""
    back: dt.date | None = None  # `away`: the return day an automatic reply named


def _raw(msg: Message, name: str) -> list[str]:
    """Every value of header `name` as it arrived (unparsed: a malformed one cannot raise)."""
    wanted = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]


def header_text(msg: Message, name: str, default: str = "") -> str:
    """Header `name` decoded, or as it arrived when it cannot be parsed (`From: "`)."""
    try:
        value = msg.get(name)
    except Exception:  # the email package raises assorted errors on malformed headers
        raw = _raw(msg, name)
        return raw[0] if raw else default
    return default if value is None else str(value)


def addresses(msg: Message, *names: str) -> list[str]:
    """Every address in these headers, lower case (unparsed headers: never raises)."""
    values = [v for name in names for v in _raw(msg, name)]
    return [a.lower() for _, a in getaddresses(values) if a and "@" in a]


def sent_at(msg: Message) -> dt.datetime | None:
    """The message's Date, with a zone (UTC when it names none); None if unreadable."""
    try:
        moment = parsedate_to_datetime(header_text(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _bounce(msg: EmailMessage, known: Known) -> Verdict | None:
    """A delivery-status report: a permanent failure for a partner's address, else nothing."""
    if msg.get_content_type() != "multipart/report":
        return None
    if str(msg.get_param("report-type", "")).lower() != "delivery-status":
        return None
    statuses: list[tuple[str, str, str]] = []  # (recipient, action, status)
    original_ids: list[str] = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload():  # per-message, then per-recipient fields
                if not isinstance(block, Message):
                    continue
                recipient = str(block.get("Final-Recipient", block.get("Original-Recipient", "")))
                if recipient:
                    address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
                    action = str(block.get("Action", "")).strip().lower()
                    statuses.append((address, action, str(block.get("Status", "")).strip()))
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                original_ids += _IDS.findall(" ".join(_raw(inner, "Message-ID")))
            elif isinstance(payload, str):
                found = re.search(r"(?im)^message-id:\s*(<[^>]+>)", payload)
                if found:
                    original_ids.append(found.group(1))
    for address, action, status in statuses:
        if not status.startswith("5") or action not in ("failed", ""):
            continue  # 4.x.x: only delayed
        partner = next((known.sent_ids[i] for i in original_ids if i in known.sent_ids), "")
        if not partner and address in known.partners:
            partner = address
        if partner:
            return Verdict("bounce", partner, _own_id(msg), sent_at(msg), f"{status} {address}")
    return None


def _own_id(msg: Message) -> str:
    """The message's own Message-ID (`<...>`), or "" when it has none that reads as one."""
    found = _IDS.findall(" ".join(_raw(msg, "Message-ID")))
    return found[0] if found else ""


def classify(raw: bytes, known: Known) -> Verdict:
    """Read one message and say what it means for the partners."""
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    msg = parsed
    own_id = _own_id(msg)
    try:
        bounce = _bounce(msg, known)
    except Exception:  # a malformed report is not a bounce we can trust
        bounce = None
    if bounce is not None:
        return bounce
    senders = addresses(msg, "From", "Sender", "Reply-To")
    partner = next((a for a in senders if a in known.partners), "")
    if not partner and any(a in known.copies for a in addresses(msg, "From")):
        # A copy's answer (the owner, a CRM) is never the partner's: no reply, no opt-out.
        return Verdict("ignored", "", own_id, sent_at(msg), "from a copy's recipient")
    subject = " ".join(header_text(msg, "Subject").split())
    if partner and subject.lower() == "unsubscribe":
        to = addresses(msg, "To", "Cc", "Delivered-To")
        if known.unsubscribe_address.lower() in to:
            return Verdict("unsubscribe", partner, own_id, sent_at(msg), "asked to unsubscribe")
    threads = _IDS.findall(" ".join(_raw(msg, "In-Reply-To") + _raw(msg, "References")))
    threaded = next((known.sent_ids[i] for i in threads if i in known.sent_ids), "")
    who = threaded or partner
    words = own_words(msg, known.cut)
    if is_automatic(msg, subject, words):
        when = sent_at(msg)
        said = f"{subject}\n{words}"
        back = return_day(said, when.date(), known.date_order) if who and when else None
        if back is not None:  # never engagement: follow-ups and check-ins wait (RULES.md)
            said = f"automatic reply: back {back:%d %B %Y}, nothing goes before the day after"
            return Verdict("away", who, own_id, when, said, back)
        return Verdict("ignored", partner, own_id, when, f"automatic answer: {subject[:60]}")
    if who:
        if asks_to_stop(words):  # an opt-out in their own words, never engagement
            said = words if len(words) <= 60 else words[:57] + "..."
            return Verdict("unsubscribe", who, own_id, sent_at(msg), f"asked to stop: {said!r}")
        return Verdict("reply", who, own_id, sent_at(msg), subject[:120])
    return Verdict("ignored", "", own_id, sent_at(msg), "not from a partner")
