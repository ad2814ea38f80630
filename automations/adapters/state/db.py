"""The state database: its connection, its schema and the numbered steps that bring a
journal of any earlier version up to it (ARCHITECTURE.md, "The second step": state with
history, migrations by `PRAGMA user_version`).

Every step runs once, in one transaction with the version it leads to, so a crash midway
leaves the journal as it was and the next open runs the step again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from automations.core.review import Proposal, proposal_id
from automations.errors import JournalError

PROPOSAL_FIELDS = [f.name for f in fields(Proposal)]
SEND_COLUMNS = [
    "timestamp",
    "run_id",
    "action",
    "partner_email",
    "key",
    "template",
    "subject",
    "message_id",
    "status",
    "detail",
]


def _tables_of_main(db: sqlite3.Connection) -> None:
    """Step 1: the tables every version up to main a265d42 made, and the columns journals
    older than that lack (their rows keep NULL or '' there, as then)."""
    columns = ", ".join(f"{c} TEXT NOT NULL" for c in SEND_COLUMNS)
    db.execute(f"CREATE TABLE IF NOT EXISTS sends ({columns}, PRIMARY KEY (key))")
    proposal = ", ".join(f"{n} {'BLOB' if n == 'data' else 'TEXT'}" for n in PROPOSAL_FIELDS)
    db.execute(
        f"CREATE TABLE IF NOT EXISTS proposals ({proposal}, "
        "sheet TEXT NOT NULL DEFAULT '', PRIMARY KEY (ident))"
    )
    for table in (
        "inbox (folder TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL)",
        "job_runs (job TEXT PRIMARY KEY, at TEXT NOT NULL)",
        "openings (message_id TEXT PRIMARY KEY, text TEXT NOT NULL)",
        "counters (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "envelopes (message_id TEXT PRIMARY KEY, recipients INTEGER NOT NULL)",
        # A decision made in the terminal, kept the moment it is made (no run lock needed),
        # until a run applies it: a cron run holding the lock never costs the user a decision.
        "decisions (ident TEXT PRIMARY KEY, verb TEXT NOT NULL, until TEXT NOT NULL, "
        "how TEXT NOT NULL, seen_at TEXT NOT NULL)",
    ):
        db.execute(f"CREATE TABLE IF NOT EXISTS {table}")
    kept = {row[1] for row in db.execute("PRAGMA table_info(proposals)")}
    for name in PROPOSAL_FIELDS:
        if name not in kept:
            db.execute(f"ALTER TABLE proposals ADD COLUMN {name} TEXT")
    if "sheet" not in {row[1] for row in db.execute("PRAGMA table_info(sends)")}:
        db.execute("ALTER TABLE sends ADD COLUMN sheet TEXT NOT NULL DEFAULT ''")
    placed = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'placed'")
    if placed.fetchone() is None:
        # A journal older than the Review-row record: every proposal it holds was written.
        db.execute("CREATE TABLE placed (pid TEXT PRIMARY KEY)")
        rows = db.execute("SELECT ident, proposed_at FROM proposals").fetchall()
        db.executemany(
            "INSERT OR IGNORE INTO placed VALUES (?)", [(proposal_id(i, at),) for i, at in rows]
        )


def _events(db: sqlite3.Connection) -> None:
    """Step 2: the append-only history of every send transition, with its time. A journal
    of an earlier version kept only each key's latest state: that state is its first event."""
    columns = ", ".join(f"{c} TEXT NOT NULL" for c in SEND_COLUMNS)
    db.execute(
        "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        f"{columns}, sheet TEXT NOT NULL DEFAULT '')"
    )
    db.execute("CREATE INDEX IF NOT EXISTS events_by_key ON events (key)")
    names = ", ".join([*SEND_COLUMNS, "sheet"])
    db.execute(f"INSERT INTO events ({names}) SELECT {names} FROM sends ORDER BY timestamp, rowid")


# The steps in order: a journal at user_version n runs STEPS[n:]. Append, never edit.
STEPS: tuple[Callable[[sqlite3.Connection], None], ...] = (_tables_of_main, _events)
VERSION = len(STEPS)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating) the journal at `path` and bring it to VERSION (ARCHITECTURE.md)."""
    try:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # `pending` must be on disk before SMTP
        migrate(db)
    except (sqlite3.Error, OSError) as exc:
        raise JournalError(f"journal {path} cannot be opened: {exc}") from exc
    return db


def version(db: sqlite3.Connection) -> int:
    """The schema version the journal is at (0: made before versions were counted)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> int:
    """Run the steps the journal has not had, each with its version in one transaction;
    return how many ran (0 on a journal already current)."""
    ran = 0
    while version(db) < VERSION:
        with db:
            db.execute("BEGIN IMMEDIATE")
            at = version(db)  # another process may have migrated while this one waited
            if at >= VERSION:
                break
            STEPS[at](db)
            db.execute(f"PRAGMA user_version = {at + 1}")
            ran += 1
    if version(db) > VERSION:
        raise sqlite3.DatabaseError(
            f"it was written by a newer version of the toolkit (schema {version(db)}, "
            f"this one knows {VERSION}): upgrade partners"
        )
    return ran


class Store:
    """What every store shares: the connection, the sheet a run works on, and errors that
    name the journal (JournalError, never a bare sqlite3 error)."""

    db: sqlite3.Connection
    path: Path
    sheet: str
    former: tuple[str, ...]

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads."""
        try:
            yield self.db
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction (all of it, or none)."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                yield self.db
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc

    def mine(self) -> tuple[str, tuple[str, ...]]:
        """The WHERE clause of this sheet's rows (every row when no sheet is named)."""
        if not self.sheet:
            return "1 = 1", ()
        ours = (self.sheet, *self.former)
        return f"sheet IN ({', '.join('?' for _ in ours)}, '')", ours

    def chunked(self, query: str, wanted: list[str], *extra: str) -> list[tuple[str, str]]:
        """Rows of `query` (one `{marks}` for the IN list) over `wanted`, 500 values a query
        (SQLite's limit on bound values)."""
        found: list[tuple[str, str]] = []
        with self.reading() as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                found += db.execute(query.format(marks=marks), [*chunk, *extra]).fetchall()
        return found
