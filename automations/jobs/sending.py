"""Sending, shared by every job that emails: prepare, cap, deliver at most once, record.

Order for each message: journal `pending` (committed) -> the mailer -> journal
`sent`/`written`/`failed`/`uncertain`. The Log tab gets the same rows, batched,
when the job writes the sheet at the end of the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from typing import Protocol

from automations.adapters.mail import Delivery, Mailer
from automations.adapters.state import Entry, Journal
from automations.config import Settings
from automations.core.mail.draft import Draft
from automations.core.mail.letterhead import Sender
from automations.core.messages import (
    build_message,
    check_headers,
    message_id,
    subject_of,
    wire_email,
)
from automations.core.render import Rendered, Templates
from automations.core.vocabulary import NEVER_AGAIN, Kind, Status
from automations.core.window import when_said
from automations.core.wording import opening
from automations.errors import HeaderProblem, LoginNeeded, MailError, TemplateFault, ToolkitError
from automations.jobs.envelope import copies_of, with_copies
from automations.jobs.wiring import letterhead

Clock = Callable[[], dt.datetime]
Progress = Callable[[int, int, "Outgoing", Delivery], None]


class Outgoing(Protocol):
    """What the at-most-once gate sends and records (EMAIL.md, at most once): a freshly
    rendered draft (`Prepared`) or an approved proposal (`review.approved.Approved`)."""

    @property
    def draft(self) -> Draft:
        """What the email is about: kind, partner, why (caps, window, output)."""

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys it records as sent."""

    @property
    def partners(self) -> tuple[str, ...]:
        """The partner of each key."""

    @property
    def subject(self) -> str:
        """Its Subject."""

    @property
    def message_id(self) -> str:
        """Its Message-ID."""

    @property
    def copies(self) -> tuple[str, ...]:
        """The copies' addresses as they travel."""

    @property
    def recipient(self) -> str:
        """The address as it travels."""

    @property
    def name(self) -> str:
        """How the outbox names the file."""

    @property
    def message(self) -> EmailMessage:
        """The message as it is sent (for people to read)."""

    @property
    def text(self) -> str:
        """Its plain text (what a follow-up quotes of an outreach)."""

    @property
    def html(self) -> str:
        """Its HTML part, "" when it has none."""

    def as_bytes(self) -> bytes:
        """The message as it goes on the wire."""


@dataclass(frozen=True)
class Prepared:
    """A rendered draft whose headers are known to be writable; the message is built when
    it is sent (or shown), so a run holds drafts, not a thousand built messages."""

    draft: Draft
    rendered: Rendered
    subject: str
    message_id: str
    sender: Sender
    unsubscribe: dict[str, str]
    now: dt.datetime

    @cached_property
    def message(self) -> EmailMessage:
        """The message exactly as it is sent."""
        return build_message(self.draft, self.rendered, self.sender, self.unsubscribe, self.now)

    def as_bytes(self) -> bytes:
        """The message as it goes on the wire; built afresh, not kept, when nothing showed
        it yet (a run of 40,000 emails must not hold 40,000 messages)."""
        shown = self.__dict__.get("message")
        if shown is not None:
            return bytes(shown.as_bytes())
        built = build_message(self.draft, self.rendered, self.sender, self.unsubscribe, self.now)
        return built.as_bytes()

    @property
    def recipient(self) -> str:
        """The address as it travels (SMTP RCPT)."""
        return wire_email(self.draft.to_email)

    @property
    def keys(self) -> tuple[str, ...]:
        """The draft's keys."""
        return self.draft.keys

    @property
    def partners(self) -> tuple[str, ...]:
        """The draft's partner of each key."""
        return self.draft.key_partners

    @property
    def text(self) -> str:
        """The rendered plain text."""
        return self.rendered.text

    @property
    def html(self) -> str:
        """The rendered HTML part."""
        return self.rendered.html

    @property
    def copies(self) -> tuple[str, ...]:
        """The copies' addresses as they travel: Cc (the owner), then Bcc."""
        return copies_of(self.draft)

    @property
    def name(self) -> str:
        """kind-recipient-id: how the outbox names the file."""
        ident = self.message_id.strip("<>").split("@")[0].removeprefix("pa.")[:12]
        return f"{self.draft.kind}-{self.draft.to_email}-{ident}"


@dataclass
class Preparation:
    """What rendered, and what could not (once per template; once per bad email)."""

    ready: list[Prepared] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)


def prepare(
    drafts: Sequence[Draft], templates: Templates, settings: Settings, now: dt.datetime
) -> Preparation:
    """Render and build every draft; a template that fails holds back all of its emails."""
    out = Preparation()
    broken: dict[str, TemplateFault] = {}
    rendered: list[tuple[Draft, Rendered]] = []
    for draft in drafts:
        if draft.template in broken:
            continue
        try:
            rendered.append((draft, templates.render(draft.template, draft.context)))
        except TemplateFault as exc:
            broken[draft.template] = exc
    for name, fault in broken.items():
        count = sum(1 for d in drafts if d.template == name)
        out.faults.append(f"template error, no {name} email sent ({count} held back): {fault}")
    head = letterhead(settings)
    unsubscribe = head.unsubscribe
    rendered = [(with_copies(d, settings, head.sender.email), r) for d, r in rendered]
    for draft, result in rendered:
        if draft.template in broken:
            continue
        try:
            unsubscribe = draft.context.get("unsubscribe") or head.unsubscribe
            check_headers(draft, result, head.sender, unsubscribe)
        except HeaderProblem as problem:
            out.faults.append(not_sent(draft, problem))
            continue
        out.ready.append(
            Prepared(
                draft,
                result,
                subject_of(draft, result),
                draft.message_id or message_id(draft.keys, head.sender.email),
                head.sender,
                unsubscribe,
                now,
            )
        )
    return out


def not_sent(draft: Draft, why: object) -> str:
    """`thank to dana@... not sent (Partners!4): why`: which email, the row to fix, why."""
    where = f" (Partners!{draft.partner_row})" if draft.partner_row else ""
    return f"{draft.kind} to {draft.to_email} not sent{where}: {why}"


def entries_for(
    p: Outgoing, status: Status, detail: str, timestamp: str, run_id: str
) -> list[Entry]:
    """One Log/journal entry per key of the message."""
    d = p.draft
    return [
        Entry(
            timestamp=timestamp,
            run_id=run_id,
            action=d.kind,
            partner_email=partner,
            key=key,
            template=d.template,
            subject=p.subject,
            message_id=p.message_id,
            status=status,
            detail=detail,
        )
        for key, partner in zip(p.keys, p.partners, strict=True)
    ]


def draft_entries(
    drafts: Iterable[Draft], status: Status, detail: str, timestamp: str, run_id: str
) -> list[Entry]:
    """Entries for drafts that are recorded without being sent (`--baseline`)."""
    return [
        Entry(timestamp, run_id, d.kind, partner, key, d.template, d.subject, "", status, detail)
        for d in drafts
        for key, partner in zip(d.keys, d.key_partners, strict=True)
    ]


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    entries: list[Entry] = field(default_factory=list)
    outcomes: list[tuple[Outgoing, Delivery]] = field(default_factory=list)
    refused_again: list[Outgoing] = field(default_factory=list)
    unbuilt: list[str] = field(default_factory=list)  # emails whose message could not be made
    foreign: set[str] = field(default_factory=set)  # keys handled for another sheet only
    fatal: ToolkitError | None = None  # what stopped the sending (a mail server, a sign-in)

    def count(self, status: Status) -> int:
        """How many messages ended in `status`."""
        return sum(1 for _, d in self.outcomes if d.status == status)


def deliver(
    ready: Sequence[Outgoing],
    mailer: Mailer,
    journal: Journal,
    *,
    sender: str,
    run_id: str,
    clock: Clock,
    progress: Progress | None = None,
    after_send: Callable[[bytes], None] | None = None,
) -> DeliveryReport:
    """Send each message at most once; stop (keeping what is done) if the mailer fails."""
    report = DeliveryReport()
    # The lock is held, so the journal cannot change under us: one read for every key.
    known = journal.states(k for p in ready for k in p.keys)
    report.foreign = journal.foreign(k for k, state in known.items() if state in NEVER_AGAIN)
    done: list[Entry] = []  # outcomes not yet committed: they go with the next `pending`
    openings: list[tuple[str, str]] = []  # what a later follow-up quotes of each outreach
    try:
        for count, p in enumerate(ready, start=1):
            if any(known.get(k) in NEVER_AGAIN for k in p.keys):
                report.refused_again.append(p)  # the journal knows better than this run's read
                continue
            try:
                # The bytes exist before `pending` does: a message that cannot be made is
                # that email's problem, never a key left uncertain (EMAIL.md, at most once).
                data = p.as_bytes()
            except Exception as exc:
                report.unbuilt.append(not_sent(p.draft, f"the message cannot be made ({exc})"))
                continue
            pending = entries_for(p, Status.PENDING, "", stamp(clock()), run_id)
            # Committed before the SMTP transaction starts, with what max_per_day counts.
            journal.record([*done, *pending], {p.message_id: 1 + len(p.copies)})
            done = []
            known.update((k, Status.PENDING) for k in p.keys)  # a key twice in a run goes once
            try:
                delivery = mailer.send(data, wire_email(sender), p.recipient, p.name, p.copies)
            except (MailError, LoginNeeded) as exc:
                # A refused sign-in happens before the SMTP transaction: certainly not sent.
                failed = [e.moved(Status.FAILED, str(exc), stamp(clock())) for e in pending]
                done = failed
                report.entries.extend(failed)
                report.outcomes.append((p, Delivery(Status.FAILED, str(exc))))
                report.fatal = exc
                break
            done = [e.moved(delivery.status, delivery.detail, stamp(clock())) for e in pending]
            report.entries.extend(done)
            if after_send is not None and delivery.status == Status.SENT:
                after_send(data)
            report.outcomes.append((p, delivery))
            if p.draft.kind == Kind.OUTREACH and delivery.status in (Status.SENT, Status.WRITTEN):
                openings.append((p.message_id, opening(p.text)))
            if progress is not None:
                progress(count, len(ready), p, delivery)
    finally:
        journal.record(done)
        journal.keep_openings(openings)
    return report


def within_window(
    settings: Settings, ready: list[Outgoing], today: dt.date, now: dt.datetime
) -> tuple[list[Outgoing], str]:
    """What may go now: outside `[mail] send_days`, `send_hours` and `holidays` partner
    mail waits (owners' mail never does), and the note says until when (EMAIL.md). The
    moment is `now` on the day decided for (`--today` moves it)."""
    window = settings.mail.window
    moment = now if today == now.date() else dt.datetime.combine(today, now.timetz())
    if window.always or window.open_at(moment):
        return ready, ""
    held = [p for p in ready if not p.draft.internal]
    if not held:
        return ready, ""
    opens = window.next_open(moment)
    when = when_said(opens, moment) if opens else "when [mail] send_days allow it"
    note = (
        f"{len(held)} partner email(s) wait: {moment:%A %H:%M} is outside the send window "
        f"([mail] send_days, send_hours, holidays); they go with the first run from {when}"
    )
    return [p for p in ready if p.draft.internal], note


def exit_code(
    problems: Sequence[object],
    faults: Sequence[str],
    report: DeliveryReport | None,
    write_error: str,
) -> int:
    """0 all well; 1 something needs a look (rows, templates, a failed or uncertain send);
    2 the run could not finish (the mail server stopped it, the sheet was not written)."""
    if write_error or (report and report.fatal):
        return 2
    troubled = report is not None and bool(
        report.count(Status.FAILED)
        or report.count(Status.UNCERTAIN)
        or report.refused_again
        or report.unbuilt
    )
    return 1 if problems or faults or troubled else 0


def stamp(moment: dt.datetime) -> str:
    """A Log timestamp: ISO 8601 to the second, with the offset."""
    return moment.isoformat(timespec="seconds")
