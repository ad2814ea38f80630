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
from typing import Final, Literal

from automations.core.autoreply import is_automatic as _is_automatic
from automations.core.optout import Cut, asks_to_stop, own_words
from automations.core.returnday import return_day
from automations.core.statement_reply import statement_answer
from automations.core.vocabulary import Status

MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
UNREADABLE: Final = "unreadable"  # a verdict for a message that could not be read at all


@dataclass(frozen=True)
class Known:
    """What the toolkit knows to recognise its correspondents."""

    partners: frozenset[str]  # partner emails, lower case
    sent_ids: Mapping[str, str]  # our Message-ID -> the partner it went to
    unsubscribe_address: str  # where List-Unsubscribe mail arrives
    copies: frozenset[str] = frozenset()  # the owners in Cc and the Bcc addresses
    bcc: frozenset[str] = frozenset()  # of the copies, the `[mail] bcc` ones
    cut: Cut | None = None  # the quote stripper (adapters.replytext), else the built-in one
    date_order: str = ""  # the sheet's date order settles `01/05/2027` in a return day
    statement_ids: frozenset[str] = frozenset()  # our statements' Message-IDs (answers)


@dataclass(frozen=True)
class Verdict:
    """One message read: `reply`, `bounce`, `unsubscribe` or `ignored`, with its facts."""

    kind: Status | Literal["ignored", "away", "unreadable"]  # a Status becomes the Log's
    partner_email: str = ""
    message_id: str = ""
    when: dt.datetime | None = None
    detail: str = ""
    back: dt.date | None = None  # `away`: the return day an automatic reply named
    also: tuple[tuple[str, str], ...] = ()  # `bounce`: more (partner, detail) in one report
    warning: str = ""  # for the person running us (a copy's bounce)


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
    if moment.year < 1000:  # RFC 5322 4.3: a three-digit year is counted from 1900
        try:
            moment = moment.replace(year=moment.year + 1900)
        except ValueError:  # 29 February
            return None
    if moment.year < 1970:  # not a date this message could have been sent on
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def is_automatic(msg: EmailMessage) -> bool:
    """Out-of-office notices and other machine answers (not a person replying): the headers
    the big systems send, else an automatic subject and body together (core.autoreply)."""
    return _is_automatic(msg, " ".join(header_text(msg, "Subject").split()), own_words(msg))


@dataclass(frozen=True)
class Failures:
    """The addresses a delivery report says failed: for good (5.x.x) or for now (4.x.x)."""

    permanent: frozenset[str] = frozenset()
    temporary: frozenset[str] = frozenset()


_REPORT_PARTS = ("message/delivery-status", "message/global-delivery-status")


def _recipient(value: object) -> str:
    """`rfc822; <Pat@X.example>` -> `pat@x.example` ("" when it names no address)."""
    address = str(value or "").split(";", 1)[-1].strip().strip("<>").strip().lower()
    return address if "@" in address else ""


def report_statuses(msg: Message) -> list[tuple[str, str, str]]:
    """Every (address, action, status) of the RFC 3464 reports anywhere in the message
    (nested, wrapped in `multipart/mixed`, whatever the `report-type`); an alias's
    Original-Recipient counts as well as its Final-Recipient (EMAIL.md)."""
    statuses: list[tuple[str, str, str]] = []
    for part in msg.walk():
        if part.get_content_type() not in _REPORT_PARTS:
            continue
        payload = part.get_payload()
        for block in payload if isinstance(payload, list) else []:
            if not isinstance(block, Message):
                continue
            action = " ".join(str(block.get("Action", "")).split()).lower()
            status = str(block.get("Status", "")).strip()
            for name in ("Final-Recipient", "Original-Recipient"):
                address = _recipient(block.get(name, ""))
                if address:
                    statuses.append((address, action, status))
    return statuses


def _failed(msg: Message, detected: Failures) -> tuple[dict[str, str], set[str]]:
    """Permanent failures (address -> what the report said) and temporary ones: the
    report's own words first, then the detector's; a 4.x.x is permanent only when the
    report gave up on it (`Action: failed`) and the detector calls it permanent."""
    permanent: dict[str, str] = {}
    temporary: set[str] = set()
    given_up: dict[str, str] = {}  # `failed` with a 4.x.x, e.g. 4.4.7 delivery time expired
    for address, action, status in report_statuses(msg):
        said = f"{status.split()[0] if status else 'failed'} {address}"
        if action.startswith(("delayed", "relayed", "delivered", "expanded")):
            temporary.add(address)  # not a failure, or not one yet
        elif status.startswith("4") and action.startswith("failed"):
            given_up[address] = said
        elif status.startswith("4"):
            temporary.add(address)
        elif status.startswith("5") or action.startswith("failed"):
            permanent.setdefault(address, said)
    for address in detected.permanent - temporary:
        permanent.setdefault(address, given_up.get(address, f"failed {address}"))
    temporary |= (set(given_up) | detected.temporary) - set(permanent)
    return permanent, temporary


def _bounce(msg: EmailMessage, known: Known, detected: Failures) -> Verdict | None:
    """A delivery report: a bounce for the partners whose own address failed for good, a
    warning for a copy's, nothing more otherwise; never a reply (None: not a report)."""
    permanent, temporary = _failed(msg, detected)
    is_report = msg.get_content_type() == "multipart/report" or any(
        p.get_content_type() in _REPORT_PARTS for p in msg.walk()
    )
    if not (permanent or temporary or is_report):
        return None
    sender = addresses(msg, "From")
    if not report_statuses(msg) and any(a in known.partners or a in permanent for a in sender):
        return None  # a partner who writes about a failure is a person, not a mail server
    own_id, when = message_id_of(msg), sent_at(msg)
    partners = [a for a in sorted(permanent) if a in known.partners]
    if partners:
        more = tuple((a, permanent[a]) for a in partners[1:])
        return Verdict(Status.BOUNCE, partners[0], own_id, when, permanent[partners[0]], also=more)
    copies = [a for a in sorted(permanent) if a in known.copies]
    if copies:
        key = "[mail] bcc" if copies[0] in known.bcc else "[mail] cc_owner"
        said = (
            f"the copy to {copies[0]} bounced ({permanent[copies[0]]}); no partner is blocked: "
            f"correct or remove that address ({key})"
        )
        return Verdict("ignored", "", own_id, when, said, warning=said)
    if permanent:
        listed = ", ".join(sorted(permanent)[:3])
        return Verdict("ignored", "", own_id, when, f"delivery failure for {listed}: no partner")
    return Verdict("ignored", "", own_id, when, "delivery report: delayed, nobody blocked")


def message_id_of(msg: Message) -> str:
    """The message's own Message-ID (`<...>`), or "" when it has none that reads as one."""
    found = MESSAGE_IDS.findall(" ".join(_raw(msg, "Message-ID")))
    return found[0] if found else ""


def classify(raw: bytes, known: Known, detected: Failures | None = None) -> Verdict:
    """Read one message and say what it means for the partners (EMAIL.md, Replies and
    bounces); `detected`: the failures a bounce detector read in it."""
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    msg = parsed
    own_id = message_id_of(msg)
    try:
        bounce = _bounce(msg, known, detected or Failures())
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
            return Verdict(
                Status.UNSUBSCRIBE, partner, own_id, sent_at(msg), "asked to unsubscribe"
            )
    threads = MESSAGE_IDS.findall(" ".join(_raw(msg, "In-Reply-To") + _raw(msg, "References")))
    threaded = next((known.sent_ids[i] for i in threads if i in known.sent_ids), "")
    who = threaded or partner
    words = own_words(msg, known.cut)
    if _is_automatic(msg, subject, words):
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
            return Verdict(
                Status.UNSUBSCRIBE, who, own_id, sent_at(msg), f"asked to stop: {said!r}"
            )
        answer = statement_answer(words) if known.statement_ids.intersection(threads) else ""
        if answer:  # the partner's own words: what the owner reads in the digest and Status
            return Verdict(answer, who, own_id, sent_at(msg), " ".join(words.split())[:500])
        return Verdict(Status.REPLY, who, own_id, sent_at(msg), subject[:120])
    return Verdict("ignored", "", own_id, sent_at(msg), "not from a partner")
