"""The toolkit's state (SQLite under `state/`): the at-most-once record of sends with their
history, proposals, cursors and runs, one store each over one database (ARCHITECTURE.md,
"The second step"). `Journal` is all of them on one connection.
"""

from __future__ import annotations

from pathlib import Path

from automations.adapters.state.cursors import Cursors
from automations.adapters.state.db import connect
from automations.adapters.state.proposals import Proposals
from automations.adapters.state.runs import Runs
from automations.adapters.state.sends import SECRET_ID, Entry, Sends

__all__ = ["SECRET_ID", "Entry", "Journal"]


class Journal(Sends, Proposals, Cursors, Runs):
    """Every store of one journal file, and the sheet it was recorded for.

    `sheet` names the sheet this run works on (`xlsx:/path` or `google:KEY`); `former`,
    what earlier versions called it (its rows are ours). `carry_over` is the deliberate
    step that brings the other sheets' rows into this one (SHEET.md).
    """

    def __init__(self, path: Path, sheet: str = "", former: tuple[str, ...] = ()) -> None:
        self.path = path
        self.sheet = sheet
        self.former = former
        self.db = connect(path)

    def close(self) -> None:
        """Close the database."""
        self.db.close()
