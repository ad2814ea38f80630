"""The at-most-once record (SQLite under `state/`).

A key is written `pending` (and committed) before its SMTP transaction and
`sent` after the 250, so a crash in between leaves `pending`, which the next run
turns into `uncertain`: never resent without a person saying so.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from automations.core.review import Decision, Proposal, proposal_id
from automations.errors import ToolkitError

_PROPOSAL_FIELDS = [f.name for f in fields(Proposal)]
_PROPOSALS = f"""
CREATE TABLE IF NOT EXISTS proposals (
    {", ".join(f"{name} {'BLOB' if name == 'data' else 'TEXT'}" for name in _PROPOSAL_FIELDS)},
    sheet TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ident)
)
"""


# A decision made in the terminal, kept the moment it is made (no run lock needed), until a
# run applies it to its proposal: a cron run holding the lock never costs the user a decision.
_DECISIONS = """
CREATE TABLE IF NOT EXISTS decisions (
    ident TEXT PRIMARY KEY, verb TEXT NOT NULL, until TEXT NOT NULL, how TEXT NOT NULL,
    seen_at TEXT NOT NULL
)
"""


SECRET_ID = "<review."  # a review email's Message-ID: `<review.TOKEN@domain>`


class JournalError(ToolkitError):
    """The journal database cannot be opened or written."""


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
    status: str
    detail: str

    def log_row(self) -> list[str]:
        """The row as the sheet's Log shows it: a review email's Message-ID is the secret a
        reply to it must prove, kept in the journal, never shown in the sheet (EMAIL.md)."""
        row = self.as_row()
        if self.message_id.startswith(SECRET_ID):
            row[7] = ""
        return row

    def as_row(self) -> list[str]:
        """The Log row, in LOG_COLUMNS order."""
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

    def moved(self, status: str, detail: str, timestamp: str) -> Entry:
        """The same key in a new state."""
        return replace(self, status=status, detail=detail, timestamp=timestamp)


_COLUMNS = [f.name for f in fields(Entry)]
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS sends (
    {", ".join(f"{c} TEXT NOT NULL" for c in _COLUMNS)},
    PRIMARY KEY (key)
)
"""


class Journal:
    """One row per idempotency key: its latest state, and the sheet it was recorded for.

    `sheet` names the sheet this run works on (`xlsx:/path` or `google:KEY`). `entries`
    are that sheet's rows only, so moving a project folder from one sheet to another
    never copies one sheet's history into the other's Log; `states` (what stops a second
    send) spans every sheet, so at-most-once holds across the move. `carry_over` is the
    deliberate step that brings the other sheets' rows into this one.
    """

    def __init__(self, path: Path, sheet: str = "", former: tuple[str, ...] = ()) -> None:
        self.path = path
        self.sheet = sheet
        self.former = former  # what earlier versions called this sheet: its rows are ours
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, timeout=10)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # `pending` must be on disk before SMTP
            self.db.execute(_SCHEMA)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS inbox (folder TEXT PRIMARY KEY, "
                "uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS job_runs (job TEXT PRIMARY KEY, at TEXT NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS openings (message_id TEXT PRIMARY KEY, "
                "text TEXT NOT NULL)"
            )
            self.db.execute(_PROPOSALS)
            self._placed_table()
            self.db.execute(_DECISIONS)
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS envelopes (message_id TEXT PRIMARY KEY, "
                "recipients INTEGER NOT NULL)"
            )
            kept = {row[1] for row in self.db.execute("PRAGMA table_info(proposals)")}
            for name in _PROPOSAL_FIELDS:  # proposals of earlier versions: NULL, as then
                if name not in kept:
                    self.db.execute(f"ALTER TABLE proposals ADD COLUMN {name} TEXT")
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(sends)")}
            if "sheet" not in columns:  # journals of earlier versions: rows of no sheet yet
                self.db.execute("ALTER TABLE sends ADD COLUMN sheet TEXT NOT NULL DEFAULT ''")
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"journal {path} cannot be opened: {exc}") from exc

    def _placed_table(self) -> None:
        """The Review rows written (by proposal id): a row whose append failed is written
        again, one the user deleted is not. A journal of an earlier version: every
        proposal it holds counts as written."""
        found = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'placed'"
        ).fetchone()
        if found:
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("CREATE TABLE IF NOT EXISTS placed (pid TEXT PRIMARY KEY)")
            rows = self.db.execute("SELECT ident, proposed_at FROM proposals").fetchall()
            self.db.executemany(
                "INSERT OR IGNORE INTO placed VALUES (?)",
                [(proposal_id(i, at),) for i, at in rows],
            )

    def placed(self) -> set[str]:
        """The ids of the proposals whose Review row was written."""
        try:
            return {pid for (pid,) in self.db.execute("SELECT pid FROM placed")}
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc

    def mark_placed(self, pids: Iterable[str]) -> None:
        """Remember that these proposals' Review rows were written."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR IGNORE INTO placed VALUES (?)", [(p,) for p in pids])
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def claim_unmarked(self) -> None:
        """Rows an earlier version recorded without a sheet belong to the sheet it then
        worked on, which is the sheet of the first run that meets them."""
        if not self.sheet:
            return
        ours = ("", *self.former)
        marks = ", ".join("?" for _ in ours)
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                for table in ("sends", "proposals"):
                    self.db.execute(
                        f"UPDATE {table} SET sheet = ? WHERE sheet IN ({marks})",
                        (self.sheet, *ours),
                    )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def _mine(self) -> tuple[str, tuple[str, ...]]:
        """The WHERE clause of this sheet's rows (every row when no sheet is named)."""
        if not self.sheet:
            return "1 = 1", ()
        ours = (self.sheet, *self.former)
        return f"sheet IN ({', '.join('?' for _ in ours)}, '')", ours

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def record(self, entries: Iterable[Entry], recipients: Mapping[str, int] | None = None) -> None:
        """Store each entry as its key's state, all in one transaction; `recipients`: how
        many addresses each message (by Message-ID) goes to, which max_per_day counts."""
        rows = [[*e.as_row(), self.sheet] for e in entries]
        if not rows:
            return
        marks = ", ".join("?" for _ in range(len(_COLUMNS) + 1))
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany(
                    f"INSERT OR REPLACE INTO sends ({', '.join(_COLUMNS)}, sheet) VALUES ({marks})",
                    rows,
                )
                self.db.executemany(
                    "INSERT OR REPLACE INTO envelopes (message_id, recipients) VALUES (?, ?)",
                    sorted((recipients or {}).items()),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def entries(self) -> list[Entry]:
        """Every key's state recorded for this sheet, oldest first."""
        where, args = self._mine()
        return self._select(f"WHERE {where}", args)

    def other_sheets(self) -> list[Entry]:
        """Rows recorded for other sheets (before the project moved to this one)."""
        where, args = self._mine()
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
        found: set[str] = set()
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                mine, ours = self._mine()
                cursor = self.db.execute(
                    f"SELECT key FROM sends WHERE key IN ({marks}) AND NOT ({mine})",
                    [*chunk, *ours],
                )
                found.update(k for (k,) in cursor.fetchall())
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return found

    def _select(self, where: str, args: tuple[str, ...]) -> list[Entry]:
        try:
            cursor = self.db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM sends {where} ORDER BY timestamp, rowid", args
            )
            return [Entry(*row) for row in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc

    def review_replies(self) -> list[Entry]:
        """This sheet's rows of replies to review emails (EMAIL.md, review by reply)."""
        where, args = self._mine()
        return self._select(f"WHERE action = 'review' AND status = 'reply' AND {where}", args)

    def states(self, keys: Iterable[str]) -> dict[str, str]:
        """key -> status for the keys the journal knows."""
        return self._status_by("key", list(keys))

    def message_states(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Message-ID -> the state of its keys, for the messages the journal knows."""
        return self._status_by("message_id", sorted({m for m in message_ids if m}))

    def _status_by(self, column: str, wanted: list[str]) -> dict[str, str]:
        """`column` value -> status of the send rows holding one of `wanted` (500 a query:
        SQLite's limit on bound values)."""
        found: dict[str, str] = {}
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                cursor = self.db.execute(
                    f"SELECT {column}, status FROM sends WHERE {column} IN ({marks})", chunk
                )
                found.update(dict(cursor.fetchall()))
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return found

    def recover(self, timestamp: str, detail: str) -> list[Entry]:
        """Keys a crashed run left `pending` become `uncertain`; return them."""
        stuck = [e for e in self.entries() if e.status == "pending"]
        moved = [e.moved("uncertain", detail, e.timestamp) for e in stuck]
        self.record(moved)
        return moved

    def keep_openings(self, openings: Iterable[tuple[str, str]]) -> None:
        """Keep the first lines of sent outreach by Message-ID: a follow-up quotes them."""
        rows = list(openings)
        if not rows:
            return
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR REPLACE INTO openings VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def openings(self, message_ids: Iterable[str]) -> dict[str, str]:
        """The kept first lines of these messages (those an earlier version sent have none)."""
        wanted = sorted({m for m in message_ids if m})
        try:
            found = {}
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ", ".join("?" * len(part))
                query = f"SELECT message_id, text FROM openings WHERE message_id IN ({marks})"
                found.update(dict(self.db.execute(query, part).fetchall()))
            return found
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc

    def inbox_cursor(self, folder: str) -> tuple[int | None, int | None]:
        """(UIDVALIDITY, last UID seen) of an IMAP folder, or (None, None) before the first scan."""
        try:
            row = self.db.execute(
                "SELECT uidvalidity, last_uid FROM inbox WHERE folder = ?", (folder,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return (int(row[0]), int(row[1])) if row else (None, None)

    def set_inbox_cursor(self, folder: str, uidvalidity: int, last_uid: int) -> None:
        """Remember where the next scan of `folder` starts."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "INSERT OR REPLACE INTO inbox (folder, uidvalidity, last_uid) VALUES (?, ?, ?)",
                    (folder, uidvalidity, last_uid),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def job_runs(self) -> dict[str, dt.datetime]:
        """When each scheduled job last ran."""
        try:
            rows = self.db.execute("SELECT job, at FROM job_runs").fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return {job: dt.datetime.fromisoformat(at) for job, at in rows}

    def record_job_run(self, job: str, when: dt.datetime) -> None:
        """Remember that `job` ran at `when`."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "INSERT OR REPLACE INTO job_runs (job, at) VALUES (?, ?)",
                    (job, when.isoformat()),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def sent_since(self, moment: dt.datetime) -> int:
        """Recipients of the messages that left (or may have left) through SMTP since
        `moment`; a message an earlier version sent counts as one."""
        try:
            cursor = self.db.execute(
                "SELECT timestamp, sends.message_id, COALESCE(envelopes.recipients, 1) "
                "FROM sends LEFT JOIN envelopes ON envelopes.message_id = sends.message_id "
                "WHERE status IN ('sent', 'uncertain', 'pending')"
            )
            ids = {
                mid: n
                for ts, mid, n in cursor.fetchall()
                if dt.datetime.fromisoformat(ts) >= moment
            }
        except (sqlite3.Error, ValueError) as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return sum(ids.values())

    def keep_proposals(self, proposals: Iterable[Proposal]) -> None:
        """Store proposals (new, or in a new state), all in one transaction."""
        rows = [
            [
                json.dumps(list(v)) if isinstance(v := getattr(p, f), tuple) else v
                for f in _PROPOSAL_FIELDS
            ]
            + [self.sheet]
            for p in proposals
        ]
        if not rows:
            return
        marks = ", ".join("?" for _ in range(len(_PROPOSAL_FIELDS) + 1))
        names = ", ".join(_PROPOSAL_FIELDS)
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany(
                    f"INSERT OR REPLACE INTO proposals ({names}, sheet) VALUES ({marks})", rows
                )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def proposals(self) -> list[Proposal]:
        """This sheet's proposals, oldest first (EMAIL.md, review)."""
        where, args = self._mine()
        names = ", ".join(_PROPOSAL_FIELDS)
        try:
            cursor = self.db.execute(
                f"SELECT {names} FROM proposals WHERE {where} ORDER BY proposed_at, ident", args
            )
            found = cursor.fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        out = []
        for row in found:
            values = dict(zip(_PROPOSAL_FIELDS, row, strict=True))
            values["keys"] = tuple(json.loads(values["keys"]))
            values["partners"] = tuple(json.loads(values["partners"]))
            copies = values["copies"]
            values["copies"] = None if copies is None else tuple(json.loads(copies))
            values["number"] = int(values["number"] or 0)
            values["data"] = bytes(values["data"] or b"")
            values["proposal"] = values["proposal"] or ""
            out.append(Proposal(**values))
        return out

    def has_proposals(self) -> bool:
        """Whether this sheet ever had a proposal (review is then settled every run)."""
        where, args = self._mine()
        try:
            found = self.db.execute(f"SELECT 1 FROM proposals WHERE {where} LIMIT 1", args)
            return found.fetchone() is not None
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc

    def keep_decision(self, ident: str, decision: Decision, how: str, seen_at: str) -> None:
        """Keep the user's decision on one proposal now; the latest for a proposal wins."""
        until = decision.until.isoformat() if decision.until else ""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?)",
                    (ident, decision.verb, until, how, seen_at),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def kept_decisions(self) -> dict[str, tuple[Decision, str]]:
        """The decisions kept and not applied yet, by proposal ident, with how they were made."""
        try:
            found = self.db.execute("SELECT ident, verb, until, how FROM decisions").fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return {
            ident: (Decision(verb, dt.date.fromisoformat(until) if until else None), how)
            for ident, verb, until, how in found
        }

    def drop_decisions(self, idents: Iterable[str]) -> None:
        """Forget decisions once applied to their proposals."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("DELETE FROM decisions WHERE ident = ?", [(i,) for i in idents])
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def counter(self, name: str) -> str:
        """A small value the runs keep between them ("" when never set): failed runs in a
        row, the day of the last alert."""
        try:
            found = self.db.execute("SELECT value FROM counters WHERE name = ?", (name,))
            row = found.fetchone()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc
        return str(row[0]) if row else ""

    def set_counter(self, name: str, value: str) -> None:
        """Keep a value for the next runs."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc
