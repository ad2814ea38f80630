"""The sends store: each key's current state, and every transition as an event with its
time (append-only), the recipients each message went to and the openings follow-ups quote.

A key is written `pending` (and committed) before its SMTP transaction and `sent` after the
250, so a crash in between leaves `pending`, which the next run turns into `uncertain`:
never resent without a person saying so (EMAIL.md, at most once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from automations.adapters.state.db import SEND_COLUMNS, Store
from automations.core.vocabulary import Status
from automations.errors import JournalError

SECRET_ID = "<review."  # a review email's Message-ID: `<review.TOKEN@domain>`


@dataclass(frozen=True)
class Entry:
    """One key's outcome: a journal row and a Log row (same columns as the Log tab)."""

    timestamp: str  # ISO 8601 with offset
    run_id: str
    action: str
    partner_email: str
    key: str
    template: str
    subject: str
    message_id: str
    # Rows read back from the journal hold the stored string, equal to its member.
    status: Status
    detail: str

    def log_row(self) -> list[str]:
        """The row as the sheet's Log shows it: a review email's Message-ID is the secret a
        reply to it must prove, kept in the journal, never shown in the sheet (EMAIL.md)."""
        row = self.as_row()
        if self.message_id.startswith(SECRET_ID):
            row[7] = ""
        return row

    def as_row(self) -> list[str]:
        """The Log row, in LOG_COLUMNS order (SHEET.md, Log)."""
        return [
            self.timestamp,
            self.run_id,
            self.action,
            self.partner_email,
            self.key,
            self.template,
            self.subject,
            self.message_id,
            self.status,
            self.detail,
        ]

    def moved(self, status: Status, detail: str, timestamp: str) -> Entry:
        """The same key in a new state."""
        return replace(self, status=status, detail=detail, timestamp=timestamp)


_NAMES = ", ".join(SEND_COLUMNS)


class Sends(Store):
    """One row per idempotency key (its latest state) and the events that led there.

    `entries` are this sheet's rows only, so moving a project folder from one sheet to
    another never copies one sheet's history into the other's Log; `states` (what stops a
    second send) spans every sheet, so at-most-once holds across the move (SHEET.md).
    """

    def record(self, entries: Iterable[Entry], recipients: Mapping[str, int] | None = None) -> None:
        """Store each entry as its key's state and as an event, all in one transaction;
        `recipients`: how many addresses each message goes to (EMAIL.md, max_per_day)."""
        rows = [[*e.as_row(), self.sheet] for e in entries]
        if not rows:
            return
        marks = ", ".join("?" for _ in range(len(SEND_COLUMNS) + 1))
        with self.writing() as db:
            db.executemany(f"INSERT OR REPLACE INTO sends ({_NAMES}, sheet) VALUES ({marks})", rows)
            db.executemany(f"INSERT INTO events ({_NAMES}, sheet) VALUES ({marks})", rows)
            db.executemany(
                "INSERT OR REPLACE INTO envelopes (message_id, recipients) VALUES (?, ?)",
                sorted((recipients or {}).items()),
            )

    def claim_unmarked(self) -> None:
        """Rows an earlier version recorded without a sheet belong to the sheet it then
        worked on, which is the sheet of the first run that meets them."""
        if not self.sheet:
            return
        ours = ("", *self.former)
        marks = ", ".join("?" for _ in ours)
        with self.writing() as db:
            for table in ("sends", "proposals", "events"):
                db.execute(
                    f"UPDATE {table} SET sheet = ? WHERE sheet IN ({marks})", (self.sheet, *ours)
                )

    def entries(self) -> list[Entry]:
        """Every key's state recorded for this sheet, oldest first."""
        where, args = self.mine()
        return self._select(f"WHERE {where}", args)

    def events(self, key: str = "") -> list[Entry]:
        """This sheet's transitions in the order they happened (of one key, when named)."""
        where, args = self.mine()
        if key:
            where, args = f"{where} AND key = ?", (*args, key)
        with self.reading() as db:
            rows = db.execute(f"SELECT {_NAMES} FROM events WHERE {where} ORDER BY seq", args)
            return [Entry(*row) for row in rows.fetchall()]

    def other_sheets(self) -> list[Entry]:
        """Rows recorded for other sheets (before the project moved to this one)."""
        where, args = self.mine()
        return self._select(f"WHERE NOT ({where})", args)

    def carry_over(self) -> list[Entry]:
        """Make the other sheets' rows this sheet's (the user moved to it); return them."""
        moved = self.other_sheets()
        self.record(moved)
        return moved

    def foreign(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` the journal holds for another sheet only."""
        wanted = list(keys)
        if not self.sheet or not wanted:
            return set()
        mine, ours = self.mine()
        query = f"SELECT key, key FROM sends WHERE key IN ({{marks}}) AND NOT ({mine})"
        return {k for k, _ in self.chunked(query, wanted, *ours)}

    def _select(self, where: str, args: tuple[str, ...]) -> list[Entry]:
        with self.reading() as db:
            query = f"SELECT {_NAMES} FROM sends {where} ORDER BY timestamp, rowid"
            return [Entry(*row) for row in db.execute(query, args).fetchall()]

    def review_replies(self) -> list[Entry]:
        """This sheet's rows of replies to review emails (EMAIL.md, review by reply)."""
        where, args = self.mine()
        return self._select(f"WHERE action = 'review' AND status = 'reply' AND {where}", args)

    def states(self, keys: Iterable[str]) -> dict[str, str]:
        """key -> status for the keys the journal knows."""
        return dict(
            self.chunked("SELECT key, status FROM sends WHERE key IN ({marks})", list(keys))
        )

    def message_states(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Message-ID -> the state of its keys, for the messages the journal knows."""
        wanted = sorted({m for m in message_ids if m})
        query = "SELECT message_id, status FROM sends WHERE message_id IN ({marks})"
        return dict(self.chunked(query, wanted))

    def recover(self, timestamp: str, detail: str) -> list[Entry]:
        """Keys a crashed run left `pending` become `uncertain`; return them."""
        where, args = self.mine()  # this sheet's rows, only the pending ones read back
        stuck = self._select(f"WHERE {where} AND status = ?", (*args, Status.PENDING.value))
        moved = [e.moved(Status.UNCERTAIN, detail, e.timestamp) for e in stuck]
        self.record(moved)
        return moved

    def keep_openings(self, openings: Iterable[tuple[str, str]]) -> None:
        """Keep the first lines of sent outreach by Message-ID: a follow-up quotes them."""
        rows = list(openings)
        if rows:
            with self.writing() as db:
                db.executemany("INSERT OR REPLACE INTO openings VALUES (?, ?)", rows)

    def openings(self, message_ids: Iterable[str]) -> dict[str, str]:
        """The kept first lines of these messages (those an earlier version sent have none)."""
        wanted = sorted({m for m in message_ids if m})
        query = "SELECT message_id, text FROM openings WHERE message_id IN ({marks})"
        return dict(self.chunked(query, wanted))

    def sent_since(self, moment: dt.datetime) -> int:
        """Recipients of the messages that left (or may have left) through SMTP since
        `moment`; a message an earlier version sent counts as one (EMAIL.md, max_per_day)."""
        try:
            with self.reading() as db:
                cursor = db.execute(
                    "SELECT timestamp, sends.message_id, COALESCE(envelopes.recipients, 1) "
                    "FROM sends LEFT JOIN envelopes ON envelopes.message_id = sends.message_id "
                    "WHERE status IN ('sent', 'uncertain', 'pending')"
                )
                ids = {
                    mid: n
                    for ts, mid, n in cursor.fetchall()
                    if dt.datetime.fromisoformat(ts) >= moment
                }
        except ValueError as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return sum(ids.values())
