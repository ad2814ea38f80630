"""One run's view of the project: the lock, the journal, the inbox and the sheet, merged.

Every job that writes (nurture, campaign, survey, digest, resolve, replies) opens a
session: it takes the run lock, turns a crashed run's `pending` keys into
`uncertain`, reads the sheet once with the journal's missing Log rows merged in,
reads the inbox (when configured), and at the end writes Health and the Log once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from automations.adapters.lock import RunLock
from automations.adapters.mail import Mailer
from automations.adapters.sheet import ReviewTable, SheetBackend
from automations.adapters.state import Entry, Journal
from automations.config import Settings
from automations.core.review import REVIEW_COLUMNS
from automations.core.statements import dispute_line, open_disputes
from automations.core.status import Ahead, status_rows
from automations.core.tables import RawSheet, Tables
from automations.core.vocabulary import Status
from automations.errors import ConfigError, InboxError, SheetError, ToolkitError
from automations.jobs import inbox as mailbox
from automations.jobs.alerts import run_ended, run_started
from automations.jobs.calendar import CalendarOutcome, scan_calendars
from automations.jobs.envelope import partners_in_bcc
from automations.jobs.log_rows import UNCERTAIN_DETAIL, as_logged, unlogged, with_log_rows
from automations.jobs.sending import (
    Clock,
    DeliveryReport,
    Outgoing,
    Progress,
    deliver,
    stamp,
)
from automations.jobs.status_facts import ahead_of
from automations.jobs.wiring import (
    mail_capabilities,
    mail_signed_in,
    open_backend,
    open_mailer,
    state_dir,
    tables_from,
)


@dataclass
class Session:
    """One run's view of the sheet: the backend, the journal and the tables they make."""

    backend: SheetBackend
    journal: Journal
    tables: Tables
    unlogged: list[Entry]
    recovered: list[Entry]
    run_id: str
    raw: RawSheet  # as read, with the journal's missing Log rows appended
    inbox: mailbox.InboxOutcome | None = None  # None: no [imap] configured
    carried: list[Entry] | None = None  # rows brought over from other sheets (carry_over)
    started: dt.datetime | None = None
    calendar: CalendarOutcome | None = None  # None: no [calendar] ics configured
    summary: RunSummary | None = None  # what the run's `run` row said (set by write_sheet)
    ahead: Ahead | None = None  # sign-ins and the next scheduled run, for Status


# A run's Log status by its exit code (SHEET.md, Log: the `run` row).
RUN_STATUS = {0: Status.OK, 1: Status.PROBLEMS, 2: Status.FAILED}


@dataclass(frozen=True)
class RunSummary:
    """What a run says of itself in its Log `run` row: the exit code and what it did."""

    code: int
    detail: str


def sending_summary(
    job: str,
    report: DeliveryReport | None,
    code: int,
    problems: int,
    faults: Sequence[str] = (),
    proposed: int = 0,
) -> RunSummary:
    """The `run` row of a sending job: emails by outcome, what stopped it, what needs a look."""
    said: list[str] = []
    if report is not None:
        counts = Counter(d.status for _, d in report.outcomes)
        emails = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        said.append(f"emails: {emails}" if emails else "no email was due")
        if proposed:
            said.append(f"{proposed} proposed for your approval (Review)")
        if report.fatal is not None:
            said.append(f"stopped: {report.fatal}")
    if problems:
        said.append(f"{problems} sheet problem(s), `partners check` lists them")
    said += faults  # what was held back and why, as the run printed it
    return RunSummary(code, f"{job}: {'; '.join(said) or 'done'}")


_RUNS = itertools.count(1)  # runs made by this process (the scheduler and tests make several)


def _run_id(now: dt.datetime) -> str:
    n = next(_RUNS)
    again = f"-{n}" if n > 1 else ""
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}{again}"


@contextmanager
def session(
    settings: Settings,
    today: dt.date,
    now: dt.datetime,
    writing: bool,
    read_inbox: bool = True,
    carry_over: bool = False,
    sheet: SheetBackend | None = None,
    record: bool | None = None,
) -> Iterator[Session]:
    """Lock (when writing), settle crashed sends, read the sheet with the journal merged in.

    `record` (default: `writing`): what the inbox, the Sent folder and the calendars add is
    recorded (journal, IMAP cursor, the Log); without it they are read read-only and only
    decided on, so a dry run, `health` and `preview` show what the sending run will do
    (EMAIL.md, CLI.md).
    `carry_over` (with `writing`): the journal's rows recorded for other sheets become this
    sheet's first, so they reach its Log (the deliberate step after moving sheets).
    `sheet`: a backend to use instead of the configured one (the in-memory sheet of tests)."""
    state = state_dir(settings)
    lock = RunLock(state / "run.lock")
    if writing:
        lock.__enter__()
        run_started(settings)
    current: Session | None = None
    try:
        path = state / "journal.sqlite3"
        backend = sheet or open_backend(settings)
        # A dry run, a preview or a check leaves no file behind where none was.
        journal = Journal(
            path if writing or path.exists() else Path(":memory:"),
            backend.identity,
            backend.former_identities,
        )
        try:
            current = _opened(settings, backend, journal, today, now, writing, carry_over)
            current.ahead = ahead_of(settings, journal, now) if writing else None
            if read_inbox:
                _read_sources(
                    settings, current, today, writing if record is None else record and writing
                )
            yield current
        except ToolkitError as exc:
            if writing:
                _ended(settings, journal, current, f"stopped: {exc}", now)
            raise
        else:
            if writing:
                _ended(settings, journal, current, "", now)
        finally:
            journal.close()
    finally:
        if writing:
            lock.__exit__(None, None, None)


def _opened(
    settings: Settings,
    backend: SheetBackend,
    journal: Journal,
    today: dt.date,
    now: dt.datetime,
    writing: bool,
    carry_over: bool,
) -> Session:
    """Crashed sends settled (when writing), the sheet read once with the journal's
    missing Log rows merged in."""
    carried = None
    if writing:
        journal.claim_unmarked()
        carried = journal.carry_over() if carry_over else None
    recovered = journal.recover(stamp(now), UNCERTAIN_DETAIL) if writing else []
    raw = backend.read()
    log_title = settings.sheet.tabs.log
    missing = unlogged(as_logged(journal.entries()), raw, log_title)
    merged = with_log_rows(raw, log_title, missing)
    tables = tables_from(settings, merged, today)
    return Session(
        backend,
        journal,
        tables,
        missing,
        recovered,
        _run_id(now),
        merged,
        carried=carried,
        started=now,
    )


def _read_sources(settings: Settings, s: Session, today: dt.date, keep: bool) -> None:
    """The inbox and the calendars read into `s` (recorded only with `keep`); what they
    add is decided on: one more read of the merged sheet."""
    assert s.started is not None
    now = s.started
    if settings.imap.host:
        s.inbox = mailbox.scan(settings, s.journal, s.tables, now, s.run_id, keep, today)
    if settings.calendar.ics:
        s.calendar = scan_calendars(settings, s.journal, s.tables, now, s.run_id, keep)
    found = [*(s.inbox.entries if s.inbox else []), *(s.calendar.entries if s.calendar else [])]
    if found:
        # Unrecorded, they never reach the Log: the sending run records them once.
        s.unlogged = [*s.unlogged, *found] if keep else s.unlogged
        s.raw = with_log_rows(s.raw, settings.sheet.tabs.log, found)
        s.tables = tables_from(settings, s.raw, today)


def _ended(
    settings: Settings, journal: Journal, s: Session | None, stopped: str, now: dt.datetime
) -> None:
    """The alerts of a run that wrote (or tried to): its `run` row's status says failed or
    not; a run stopped by an error before its row is a failed one."""
    summary = s.summary if s is not None else None
    failed = bool(stopped) or (summary is not None and summary.code >= 2)
    detail = stopped or (summary.detail if summary else "done")
    run_id = s.run_id if s is not None else _run_id(now)
    # The time a late alert goes out is now, not the moment the run started.
    run_ended(settings, journal, run_id, failed, detail, lambda: dt.datetime.now(now.tzinfo))


def run_entry(s: Session, summary: RunSummary) -> Entry:
    """The Log's `run` row: so a user who only looks at the sheet sees the engine is alive
    (SHEET.md, Log; EMAIL.md, "Copies, windows and alerts"). No key: it is no email's."""
    status = RUN_STATUS[min(max(summary.code, 0), 2)]
    moment = stamp(s.started) if s.started else ""
    return Entry(moment, s.run_id, "run", "", "", "", "", "", status, summary.detail)


def status_of(
    s: Session, entries: list[Entry], summary: RunSummary, review: ReviewTable | None
) -> list[list[str]]:
    """The Status tab of this run (SHEET.md, Status)."""
    sent = {e.message_id or e.key for e in entries if e.status in (Status.SENT, Status.WRITTEN)}
    at = REVIEW_COLUMNS.index("status"), REVIEW_COLUMNS.index("proposed_on")
    waiting = (
        [str(r[at[1]]) for r in review.rows if str(r[at[0]]) == "waiting"]
        if review is not None
        else None
    )
    problems = [str(p) for p in s.tables.problems if p.row is not None]
    t = s.tables
    disputes = [dispute_line(d) for d in open_disputes(t.log, t.touches, t.partners)]
    return status_rows(
        s.started,
        summary.code,
        summary.detail,
        len(sent),
        waiting,
        problems,
        s.ahead,
        disputes,
    )


def write_sheet(
    s: Session,
    health: list[list[object]] | None,
    entries: list[Entry],
    summary: RunSummary,
    review: ReviewTable | None = None,
) -> str:
    """Write Health, the Log rows and the run's `run` row; an error is returned, not raised
    (the journal has the sends; the `run` row of a run that could not write is lost)."""
    s.summary = summary
    rows = [e.log_row() for e in [*s.unlogged, *entries, run_entry(s, summary)]]
    try:
        s.backend.write(health, rows, review, status_of(s, entries, summary, review))
    except SheetError as exc:
        s.summary = RunSummary(2, f"{summary.detail}; the sheet was not written: {exc}")
        return f"{exc}; what was sent is in the journal and goes to the Log on the next run"
    if review is not None:  # rows not marked (a failed append) are written by the next run
        s.journal.mark_placed(review.new)
    return ""


@contextmanager
def sent_copies(
    settings: Settings, warnings: list[str]
) -> Iterator[Callable[[bytes], None] | None]:
    """With `[imap] save_sent`, a function filing each sent message in the Sent folder."""
    files = mail_capabilities(settings).files_copies
    if not files or not (settings.imap.host and settings.imap.save_sent):
        yield None
        return
    box = mailbox.open_inbox(settings)
    try:
        box.__enter__()
    except InboxError as exc:
        warnings.append(f"sent copies are not filed: {exc}")
        yield None
        return
    failed = False

    def file_copy(data: bytes) -> None:
        nonlocal failed
        try:
            box.append(settings.imap.sent_folder, data)
        except InboxError as exc:
            if not failed:
                warnings.append(f"a sent copy was not filed: {exc}")
            failed = True

    try:
        yield file_copy
    finally:
        box.__exit__(None, None, None)


def send_all(
    settings: Settings,
    s: Session,
    ready: list[Outgoing],
    clock: Clock,
    warnings: list[str],
    progress: Progress | None = None,
    mailer: Mailer | None = None,
) -> DeliveryReport:
    """Deliver through the configured mailer (filing sent copies when asked); close it after."""
    in_bcc = partners_in_bcc(settings, s.tables.partners["email"])
    if in_bcc and any(not p.draft.internal for p in ready):
        return DeliveryReport(fatal=ConfigError(in_bcc[0]))
    try:
        if mailer is None:
            mail_signed_in(settings)
        active = mailer or open_mailer(settings)
    except ToolkitError as exc:  # nothing was sent: the run says why in its `run` row
        return DeliveryReport(fatal=exc)
    with sent_copies(settings, warnings) as file_copy:
        try:
            return deliver(
                ready,
                active,
                s.journal,
                sender=settings.sender.email,
                run_id=s.run_id,
                clock=clock,
                progress=progress,
                after_send=file_copy,
            )
        finally:
            active.close()
