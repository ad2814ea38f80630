"""An in-memory sheet for job tests that need no workbook and no emulator."""

from __future__ import annotations

import copy
from typing import Any

from automations.adapters.sheet import ReviewTable
from automations.config import Tabs
from automations.core.review import REVIEW_COLUMNS
from automations.core.schema import LOG_COLUMNS
from automations.core.tables import RawSheet


class MemorySheet:
    """The tabs as lists of rows; `write` replaces Health and appends to the Log as the
    real backends do, and counts the writes."""

    def __init__(
        self, tabs: dict[str, list[list[Any]]], names: Tabs, identity: str = "memory:sheet"
    ) -> None:
        self.tabs = copy.deepcopy(tabs)
        self.names = names
        self._identity = identity
        self.writes = 0

    @property
    def identity(self) -> str:
        """`memory:` and a name (the journal keeps each row's sheet)."""
        return self._identity

    @property
    def former_identities(self) -> tuple[str, ...]:
        """None: its identity never changed."""
        return ()

    def read(self) -> RawSheet:
        """Every tab, as a backend hands them over (absent tabs are None), the Review tab
        with what the user typed into it."""
        n = self.names
        wanted = (n.partners, n.referrals, n.touches, n.survey, n.unsubscribes, n.log, n.review)
        return RawSheet(
            {t: copy.deepcopy(self.tabs[t]) if t in self.tabs else None for t in wanted}
        )

    def write(
        self,
        health: list[list[Any]] | None,
        log_rows: list[list[Any]],
        review: ReviewTable | None = None,
        status: list[list[Any]] | None = None,
    ) -> None:
        """Health replaced (None keeps it), Log rows appended under its header, Review
        replaced (None keeps it)."""
        self.writes += 1
        if status is not None:
            self.tabs[self.names.status] = copy.deepcopy(status)
        if review is not None:
            self.tabs[self.names.review] = [list(REVIEW_COLUMNS), *copy.deepcopy(review.rows)]
        if health is not None:
            self.tabs[self.names.health] = copy.deepcopy(health)
        if log_rows:
            log = self.tabs.setdefault(self.names.log, [list(LOG_COLUMNS)])
            log.extend(copy.deepcopy(log_rows))

    def rows(self, title: str) -> list[dict[str, Any]]:
        """A tab's rows as dicts by header (for assertions)."""
        rows = self.tabs.get(title) or []
        return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]] if rows else []
