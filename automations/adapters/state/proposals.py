"""The proposals store: emails waiting for the owner's approval, the Review rows written,
and decisions kept until a run applies them (EMAIL.md, review)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from automations.adapters.state.db import PROPOSAL_FIELDS, Store
from automations.core.review import Decision, Proposal
from automations.core.vocabulary import Kind

_NAMES = ", ".join(PROPOSAL_FIELDS)


def _proposal(row: Iterable[Any]) -> Proposal:
    """A stored row as a Proposal (NULL where an earlier version had no column)."""
    values = dict(zip(PROPOSAL_FIELDS, row, strict=True))
    values["kind"] = Kind(values["kind"])
    values["keys"] = tuple(json.loads(values["keys"]))
    values["partners"] = tuple(json.loads(values["partners"]))
    copies = values["copies"]
    values["copies"] = None if copies is None else tuple(json.loads(copies))
    values["number"] = int(values["number"] or 0)
    values["data"] = bytes(values["data"] or b"")
    values["proposal"] = values["proposal"] or ""
    return Proposal(**values)


class Proposals(Store):
    """The `proposals`, `placed` and `decisions` tables."""

    def placed(self) -> set[str]:
        """The ids of the proposals whose Review row was written."""
        with self.reading() as db:
            return {pid for (pid,) in db.execute("SELECT pid FROM placed")}

    def mark_placed(self, pids: Iterable[str]) -> None:
        """Remember that these proposals' Review rows were written (a row whose append
        failed is written again, one the user deleted is not)."""
        with self.writing() as db:
            db.executemany("INSERT OR IGNORE INTO placed VALUES (?)", [(p,) for p in pids])

    def keep_proposals(self, proposals: Iterable[Proposal]) -> None:
        """Store proposals (new, or in a new state), all in one transaction."""
        rows = [
            [
                json.dumps(list(v)) if isinstance(v := getattr(p, f), tuple) else v
                for f in PROPOSAL_FIELDS
            ]
            + [self.sheet]
            for p in proposals
        ]
        if not rows:
            return
        marks = ", ".join("?" for _ in range(len(PROPOSAL_FIELDS) + 1))
        with self.writing() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO proposals ({_NAMES}, sheet) VALUES ({marks})", rows
            )

    def proposals(self) -> list[Proposal]:
        """This sheet's proposals, oldest first (EMAIL.md, review)."""
        where, args = self.mine()
        with self.reading() as db:
            found = db.execute(
                f"SELECT {_NAMES} FROM proposals WHERE {where} ORDER BY proposed_at, ident", args
            ).fetchall()
        return [_proposal(row) for row in found]

    def has_proposals(self) -> bool:
        """Whether this sheet ever had a proposal (review is then settled every run)."""
        where, args = self.mine()
        with self.reading() as db:
            found = db.execute(f"SELECT 1 FROM proposals WHERE {where} LIMIT 1", args)
            return found.fetchone() is not None

    def keep_decision(self, ident: str, decision: Decision, how: str, seen_at: str) -> None:
        """Keep the user's decision on one proposal now; the latest for a proposal wins."""
        until = decision.until.isoformat() if decision.until else ""
        with self.writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?)",
                (ident, decision.verb, until, how, seen_at),
            )

    def kept_decisions(self) -> dict[str, tuple[Decision, str]]:
        """The decisions kept and not applied yet, by proposal ident, with how they were made."""
        with self.reading() as db:
            found = db.execute("SELECT ident, verb, until, how FROM decisions").fetchall()
        return {
            ident: (Decision(verb, dt.date.fromisoformat(until) if until else None), how)
            for ident, verb, until, how in found
        }

    def drop_decisions(self, idents: Iterable[str]) -> None:
        """Forget decisions once applied to their proposals."""
        with self.writing() as db:
            db.executemany("DELETE FROM decisions WHERE ident = ?", [(i,) for i in idents])
