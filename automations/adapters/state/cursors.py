"""Cursors and counters: where the next IMAP scan of a folder starts, and the small values
runs keep between them (failed runs in a row, the day of the last alert; EMAIL.md)."""

from __future__ import annotations

from automations.adapters.state.db import Store


class Cursors(Store):
    """The `inbox` and `counters` tables."""

    def inbox_cursor(self, folder: str) -> tuple[int | None, int | None]:
        """(UIDVALIDITY, last UID seen) of an IMAP folder, or (None, None) before the first scan."""
        with self.reading() as db:
            row = db.execute(
                "SELECT uidvalidity, last_uid FROM inbox WHERE folder = ?", (folder,)
            ).fetchone()
        return (int(row[0]), int(row[1])) if row else (None, None)

    def set_inbox_cursor(self, folder: str, uidvalidity: int, last_uid: int) -> None:
        """Remember where the next scan of `folder` starts."""
        with self.writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO inbox (folder, uidvalidity, last_uid) VALUES (?, ?, ?)",
                (folder, uidvalidity, last_uid),
            )

    def counter(self, name: str) -> str:
        """A small value the runs keep between them ("" when never set): failed runs in a
        row, the day of the last alert."""
        with self.reading() as db:
            row = db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else ""

    def set_counter(self, name: str, value: str) -> None:
        """Keep a value for the next runs."""
        with self.writing() as db:
            db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, value))
