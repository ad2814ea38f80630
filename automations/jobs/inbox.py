"""Reading the inbox before deciding: replies, bounces and unsubscribes become Log rows.

Wires the IMAP adapter (`inbox.py`) to the pure classifier (`replies.py`) and the
journal, which keeps where the last scan stopped (UIDVALIDITY and UID) and every
row found, so each message is recorded once however many runs follow.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from automations.adapters.auth import OAuthTokens
from automations.adapters.bounces import failures
from automations.adapters.imap import ImapInbox
from automations.adapters.replytext import before_quote
from automations.adapters.state import Entry, Journal
from automations.config import Settings, secret
from automations.core.engine import arrays
from automations.core.replies import UNREADABLE, Known, Verdict, classify
from automations.core.tables import Tables
from automations.core.touches import Touch, sent_touches
from automations.core.vocabulary import PARTNER_KINDS, Kind, Status
from automations.errors import InboxError, LoginNeeded
from automations.jobs.review.reply import apply_reply
from automations.jobs.sending import stamp
from automations.jobs.wiring import oauth_account

# The Log action of a verdict that is not its own kind: an answer is to a statement.
ACTION_OF = {UNREADABLE: "inbox", Status.CONFIRMED: Kind.STATEMENT, Status.DISPUTED: Kind.STATEMENT}
# All `sent_touches` reads (touches.py): the Sent scan fetches nothing else.
SENT_HEADERS = ("MESSAGE-ID", "DATE", "SUBJECT", "FROM", "TO", "CC")


@dataclass
class InboxOutcome:
    """What a scan found (Log entries), how many of each kind, or why it could not read."""

    entries: list[Entry] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    error: str = ""
    warnings: list[str] = field(default_factory=list)  # said on stderr, `partners:` first


def known_from(tables: Tables, settings: Settings) -> Known:
    """Partner addresses and the Message-IDs the toolkit sent, from the tables."""
    log = tables.log
    ours = log[(log["message_id"] != "") & log["action"].isin(PARTNER_KINDS)]
    return Known(
        partners=frozenset(str(e).lower() for e in tables.partners["email"]),
        sent_ids=dict(zip(ours["message_id"], ours["partner_email"], strict=True)),
        unsubscribe_address=settings.sender.reply_to or settings.sender.email,
        copies=frozenset(
            [b.lower() for b in settings.mail.bcc]
            + (
                [str(o).lower() for o in tables.partners["owner"] if o]
                if settings.mail.cc_owner
                else []
            )
        ),
        bcc=frozenset(b.lower() for b in settings.mail.bcc),
        cut=before_quote,
        date_order=settings.sheet.date_order,
        statement_ids=frozenset(ours.loc[ours["action"] == Kind.STATEMENT, "message_id"]),
    )


def open_inbox(settings: Settings) -> ImapInbox:
    """The configured inbox (not yet connected)."""
    imap = settings.imap
    oauth = imap.auth == "oauth"
    return ImapInbox(
        imap.host,
        imap.port,
        imap.security,
        imap.username,
        "" if oauth else secret("PARTNERS_IMAP_PASSWORD", settings),
        imap.timeout,
        str(settings.resolve(imap.ca_file)) if imap.ca_file else "",
        OAuthTokens(oauth_account(settings, "imap")).access_token if oauth else None,
    )


def scan(
    settings: Settings,
    journal: Journal,
    tables: Tables,
    now: dt.datetime,
    run_id: str,
    writing: bool,
    today: dt.date | None = None,
) -> InboxOutcome:
    """Read new messages; with `writing`, record them and move the cursor on. A first scan
    looks back `lookback_days` from `today` (the run's day, `--today`; EMAIL.md)."""
    imap = settings.imap
    out = InboxOutcome()
    known = known_from(tables, settings)
    seen = set(tables.log["key"])
    validity, last = journal.inbox_cursor(imap.folder)
    since = (today or now.date()) - dt.timedelta(days=imap.lookback_days)
    settled: list[Entry] = []
    try:
        with open_inbox(settings) as box:
            fetched = box.fetch_new(imap.folder, validity, last, since)
            if writing:
                settled = _settle_uncertain(box, settings, tables, now, run_id)
    except (InboxError, LoginNeeded) as exc:  # no sign-in: like an inbox that is down
        out.error = str(exc)
        return out
    if fetched.renumbered:
        out.warnings.append(renumbered(imap.folder, since))
    # A line of these words alone is the owner signing a reply to the review email.
    names = [settings.sender.name, *settings.sender.signature.splitlines()]
    reading = _Reading(journal, known, seen, now, run_id, writing, names)
    for uid, raw in fetched.messages:
        reading.message(raw, uid, fetched.uidvalidity, imap.folder, out)
    out.entries += settled
    if writing:
        journal.record(out.entries)
        journal.set_inbox_cursor(imap.folder, fetched.uidvalidity, fetched.last_uid)
    if imap.scan_sent:
        sent = scan_sent(settings, journal, known, seen, now, run_id, writing, since)
        out.entries += sent.entries
        out.counts.update(sent.counts)
        out.warnings += sent.warnings
        out.error = out.error or sent.error
    return out


@dataclass
class _Reading:
    """What each new inbox message is read against, and where its rows go."""

    journal: Journal
    known: Known
    seen: set[str]  # keys logged or found this scan: each message is recorded once
    now: dt.datetime
    run_id: str
    writing: bool
    names: list[str]  # the owner's name and signature lines

    def message(self, raw: bytes, uid: int, validity: int, folder: str, out: InboxOutcome) -> None:
        """One message: a reply to a review email applied, else classified into rows."""
        try:
            # A reply to a review email is the owner deciding, not a partner engaging.
            review = (
                apply_reply(raw, self.journal, self.now, self.run_id, self.names)
                if self.writing
                else None
            )
        except (ValueError, LookupError, TypeError, AttributeError):  # the classifier says why
            review = None
        if review is not None:
            out.counts["review"] += 1
            # The reply's own row once; the skips it made are new states of proposed keys.
            out.entries += [e for e in review if e.status != Status.REPLY or e.key not in self.seen]
            self.seen.update(e.key for e in review if e.status == Status.REPLY)
            return
        try:
            verdict = classify(raw, self.known, failures(raw))
        except Exception as exc:  # one malformed message must not stop every run after it
            verdict = unreadable(raw, uid, folder, exc)
        out.counts[verdict.kind] += 1
        if verdict.warning:
            out.warnings.append(verdict.warning)
        if verdict.kind == "ignored":
            return
        key = verdict.message_id or f"{verdict.kind}:uid:{validity}:{uid}"
        if verdict.kind == "away" and verdict.back:  # the engine reads the day off the key
            key = f"away:{verdict.partner_email}:{verdict.back.isoformat()}"
        out.entries += _new_rows(verdict, key, self.seen, self.now, self.run_id)


def scan_sent(
    settings: Settings,
    journal: Journal,
    known: Known,
    seen: set[str],
    now: dt.datetime,
    run_id: str,
    writing: bool,
    since: dt.date,
) -> InboxOutcome:
    """The user's own emails to partners in the Sent folder, as `emailed` touches (RULES.md:
    touches that record themselves); the toolkit's own copies are not counted. Only the
    headers are read: the bodies of a year of sent mail are never held."""
    folder = settings.imap.sent_folder
    out = InboxOutcome()
    validity, last = journal.inbox_cursor(folder)
    try:
        with open_inbox(settings) as box:
            fetched = box.fetch_new(folder, validity, last, since, SENT_HEADERS)
    except (InboxError, LoginNeeded) as exc:
        out.error = str(exc)
        return out
    if fetched.renumbered:
        out.warnings.append(renumbered(folder, since))
    for uid, raw in fetched.messages:
        try:
            found = sent_touches(raw, known.partners, known.sent_ids, folder)
        except Exception as exc:  # one malformed message must not stop every run after it
            key = f"inbox:uid:{folder}:{fetched.uidvalidity}:{uid}"
            if key not in seen:
                seen.add(key)
                out.entries.append(
                    verdict_entry(unreadable(raw, uid, folder, exc), key, now, run_id)
                )
            continue
        out.counts[Status.EMAILED] += len(found)
        out.entries += new_touches(found, seen, run_id)
    if writing:
        journal.record(out.entries)
        journal.set_inbox_cursor(folder, fetched.uidvalidity, fetched.last_uid)
    return out


def _new_rows(
    verdict: Verdict, key: str, seen: set[str], now: dt.datetime, run_id: str
) -> list[Entry]:
    """The verdict's Log rows not logged yet: one per partner a bounce names (the first
    keeps the message's own key, as a report naming one partner always did)."""
    rows = []
    for n, (partner, detail) in enumerate(((verdict.partner_email, verdict.detail), *verdict.also)):
        one = key if n == 0 else f"{key} {partner}"
        if one not in seen:
            seen.add(one)
            each = replace(verdict, partner_email=partner, detail=detail)
            rows.append(verdict_entry(each, one, now, run_id))
    return rows


def renumbered(folder: str, since: dt.date) -> str:
    """What a new UIDVALIDITY means for the person running us."""
    return (
        f"the IMAP server renumbered {folder} (a new UIDVALIDITY): read it again from "
        f"{since.isoformat()}; what was recorded before is not recorded twice"
    )


def verdict_entry(verdict: Verdict, key: str, now: dt.datetime, run_id: str) -> Entry:
    """An inbox message's Log row: dated by the message (when the partner answered), never
    in the future, as a sender's clock may run ahead; an unreadable one is `inbox skipped`."""
    return Entry(
        stamp(min(verdict.when, now) if verdict.when else now),
        run_id,
        ACTION_OF.get(verdict.kind, verdict.kind),
        verdict.partner_email,
        key,
        "",
        "",
        "",
        Status.SKIPPED if verdict.kind in (UNREADABLE, "away") else Status(verdict.kind),
        verdict.detail,
    )


def new_touches(touches: Iterable[Touch], seen: set[str], run_id: str) -> list[Entry]:
    """The Log rows (action `touch`) of the touches whose key is not in `seen` yet, each
    once; `seen` takes their keys."""
    out = []
    for touch in touches:
        if touch.key in seen:
            continue
        seen.add(touch.key)
        out.append(
            Entry(
                stamp(touch.when),
                run_id,
                "touch",
                touch.partner_email,
                touch.key,
                "",
                touch.subject,
                touch.message_id,
                touch.status,
                touch.detail,
            )
        )
    return out


def unreadable(raw: bytes, uid: int, folder: str, exc: Exception) -> Verdict:
    """A message the classifier could not read: skipped, said once in the Log."""
    head = raw[:2000].decode("utf-8", "replace").replace("\r", "")
    subject = next(
        (ln[8:].strip() for ln in head.split("\n") if ln.lower().startswith("subject:")), ""
    )
    return Verdict(
        UNREADABLE,
        detail=f"a message in {folder} (UID {uid}, subject {subject[:60]!r}) could not be read "
        f"and was skipped ({type(exc).__name__}: {exc})",
    )


def _settle_uncertain(
    box: ImapInbox, settings: Settings, tables: Tables, now: dt.datetime, run_id: str
) -> list[Entry]:
    """An uncertain key whose message is in the Sent folder was sent (EMAIL.md, at most
    once). Looked for whenever IMAP is configured: Gmail and others file what their SMTP
    sends by themselves, without `save_sent`; a Sent folder that cannot be searched then
    leaves the key uncertain (it is reported) and costs the inbox scan nothing."""
    log = tables.log
    settled = []
    for key in arrays.uncertain_keys(log):
        row = log[log["key"] == key].iloc[-1]
        message_id = str(row["message_id"])
        try:
            found = bool(message_id) and box.has_message_id(settings.imap.sent_folder, message_id)
        except InboxError:
            if settings.imap.save_sent:  # the folder we file in must be there: say so
                raise
            break
        if found:
            settled.append(
                Entry(
                    stamp(now),
                    run_id,
                    str(row["action"]),
                    str(row["partner_email"]),
                    key,
                    str(row["template"]),
                    str(row["subject"]),
                    message_id,
                    Status.SENT,
                    f"found in {settings.imap.sent_folder}: it was sent",
                )
            )
    return settled
