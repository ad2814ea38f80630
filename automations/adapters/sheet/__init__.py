"""Sheet backends: read every tab at once, write the toolkit's tabs at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from automations.core.tables import RawSheet


@dataclass(frozen=True)
class ReviewTable:
    """The Review tab as the toolkit sees it (SHEET.md, Review): every proposal's row in
    REVIEW_COLUMNS order, `decision` blank. `new`: the ids of this run's proposals,
    appended where the tab lacks them (a row the user deleted stays deleted)."""

    rows: list[list[Any]]
    new: set[str] = field(default_factory=set)


class SheetBackend(Protocol):
    """What every sheet backend (xlsx, Google Sheets) does."""

    @property
    def identity(self) -> str:
        """Which sheet this is (`xlsx:data/partners.xlsx` relative to the project folder,
        `xlsx:/abs/path` outside it, `google:KEY`): the journal keeps each row's sheet, so
        one sheet's history never lands in another's Log."""
        ...

    @property
    def former_identities(self) -> tuple[str, ...]:
        """Names earlier versions gave this same sheet (their journal rows are its own)."""
        ...

    def read(self) -> RawSheet:
        """Every tab the toolkit reads, in one go."""
        ...

    def write(
        self,
        health: list[list[Any]] | None,
        log_rows: list[list[Any]],
        review: ReviewTable | None = None,
        status: list[list[Any]] | None = None,
    ) -> None:
        """Replace Health with `health` (header first; None keeps it), append `log_rows`, and
        bring the Review tab up to date (None leaves it as it is)."""
        ...
