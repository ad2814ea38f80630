"""Settling what a run left open: `partners resolve`, `partners carry-over`, `partners replies`,
and the mail login check of `partners check`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from automations.adapters.state import Entry
from automations.config import Settings
from automations.core.engine import arrays
from automations.core.messages import wire_email
from automations.core.vocabulary import Status
from automations.errors import ConfigError, InboxError, ResolveError
from automations.jobs import inbox as mailbox
from automations.jobs.sending import (
    Clock,
    stamp,
)
from automations.jobs.session import RunSummary, session, write_sheet
from automations.jobs.wiring import (
    open_mailer,
)


@dataclass
class Resolved:
    """A settled uncertain key."""

    key: str
    entry: Entry
    write_error: str = ""


def run_resolve(settings: Settings, key: str, sent: bool, clock: Clock) -> Resolved:
    """Settle an `uncertain` key: it was sent (never send again) or send it on the next run."""
    now = clock()
    with session(settings, now.date(), now, writing=True) as s:
        if key not in arrays.uncertain_keys(s.tables.log):
            known = s.tables.log[s.tables.log["key"] == key]
            state = known["status"].iloc[-1] if len(known) else "not in the Log or the journal"
            raise ResolveError(
                f"{key!r} is not uncertain (its state: {state}); `partners check` lists the "
                "uncertain keys"
            )
        base = next((e for e in reversed(s.journal.entries()) if e.key == key), None)
        if base is None:
            row = s.tables.log[s.tables.log["key"] == key].iloc[-1]
            base = Entry(
                "",
                "",
                str(row["action"]),
                str(row["partner_email"]),
                key,
                str(row["template"]),
                str(row["subject"]),
                str(row["message_id"]),
                Status.UNCERTAIN,
                "",
            )
        if sent:
            entry = base.moved(
                Status.SENT, "confirmed sent by hand (partners resolve --sent)", stamp(now)
            )
        else:
            entry = base.moved(
                Status.FAILED,
                "not sent, settled by hand: due again (partners resolve --retry)",
                stamp(now),
            )
        entry = replace(entry, run_id=s.run_id)
        s.journal.record([entry])
        summary = RunSummary(0, f"resolve {key}: {entry.status}")
        return Resolved(key, entry, write_sheet(s, None, [entry], summary))


@dataclass
class CarriedOver:
    """What `partners carry-over` brought into this sheet's Log."""

    carried: list[Entry]
    write_error: str = ""


def run_carry_over(settings: Settings, clock: Clock) -> CarriedOver:
    """The journal's rows of the sheets this project used before become this sheet's, and
    go to its Log: the stated step after moving from the workbook to Google Sheets."""
    now = clock()
    with session(settings, now.date(), now, writing=True, read_inbox=False, carry_over=True) as s:
        carried = s.carried or []
        summary = RunSummary(0, f"carry-over: {len(carried)} row(s) of earlier sheets")
        return CarriedOver(carried, write_sheet(s, None, [], summary))


@dataclass
class RepliesResult:
    """What `partners replies` found and recorded."""

    inbox: mailbox.InboxOutcome
    write_error: str = ""


def run_replies(settings: Settings, clock: Clock, today: dt.date | None = None) -> RepliesResult:
    """Read the inbox now and record replies, bounces and unsubscribes in the Log; the first
    scan looks back from `today` (`--today`, EMAIL.md)."""
    if not settings.imap.host:
        raise ConfigError("`partners replies` needs an [imap] section with a host")
    now = clock()
    with session(settings, today or now.date(), now, writing=True) as s:
        assert s.inbox is not None
        if s.inbox.error:
            write_sheet(s, None, [], RunSummary(2, f"replies: {s.inbox.error}"))
            raise InboxError(s.inbox.error)
        c = s.inbox.counts
        found = f"{c[Status.REPLY]} reply(ies), {c[Status.BOUNCE]} bounce(s), {c[Status.UNSUBSCRIBE]} unsubscribe(s)"
        summary = RunSummary(0, f"replies: {found} read")
        return RepliesResult(s.inbox, write_sheet(s, None, [], summary))


def check_mail(settings: Settings) -> tuple[str, list[str]]:
    """Log in to the SMTP server (and leave) to prove the settings work: a line saying so,
    and what the settings ask that this server cannot do."""
    mailer = open_mailer(settings)
    if not mailer.capabilities.delivers:
        return f"mail: outbox folder {settings.mail.outbox_dir}/ (nothing leaves this machine)", []
    from automations.adapters.mail.smtp import SmtpMailer

    assert isinstance(mailer, SmtpMailer)
    mailer.open()
    utf8 = mailer.offers_smtputf8()
    mailer.close()
    who = f" as {settings.mail.username}" if settings.mail.username else ""
    line = f"mail: connected to {mailer.where}{who} ({settings.mail.security}): OK"
    # Said here, not found out on the first send (EMAIL.md, copies).
    cannot = [
        f"[mail] bcc {b!r} will be left out of every email: it has {mailer.no_utf8_copy}; "
        "use an address with only ASCII before the @"
        for b in settings.mail.bcc
        if not (utf8 or wire_email(b).isascii())
    ]
    return line, cannot
