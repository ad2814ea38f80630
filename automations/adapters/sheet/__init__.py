"""Sheet backends: read every tab at once, write the toolkit's tabs at once."""

from __future__ import annotations

from typing import Any, Protocol

from automations.core.tables import RawSheet


class SheetBackend(Protocol):
    """What every sheet backend (xlsx, Google Sheets) does."""

    @property
    def identity(self) -> str:
        """Which sheet this is (`xlsx:/abs/path`, `google:KEY`): the journal keeps each
        row's sheet, so one sheet's history never lands in another's Log."""
        ...

    def read(self) -> RawSheet:
        """Every tab the toolkit reads, in one go."""
        ...

    def write(self, health: list[list[Any]] | None, log_rows: list[list[Any]]) -> None:
        """Replace Health with `health` (header first; None keeps it) and append `log_rows`."""
        ...
