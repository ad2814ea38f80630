"""A tab calamine cannot read without panicking, read with openpyxl instead (SHEET.md).

calamine (Rust) panics on a date-formatted cell whose number lies far outside any date
(-1e15 typed in `First contact`): the panic is a BaseException that no `except Exception`
stops, so the run ended in a Rust backtrace. openpyxl reads such a cell as `#VALUE!`,
which the sheet reader names as the cell that is not a date; the rest of the tab is read.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl


def is_panic(exc: BaseException) -> bool:
    """Whether `exc` is a Rust panic surfacing through pyo3 (it has no importable class)."""
    return type(exc).__name__ == "PanicException"


@contextlib.contextmanager
def panic_unprinted() -> Iterator[None]:
    """Hold what is written to file descriptor 2 while calamine reads, and pass it on
    unless it panicked: Rust prints a panic's message there itself, which would read as a
    crash to the user, whose cell is named instead."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        panicked = False
        try:
            yield
        except BaseException as exc:
            panicked = is_panic(exc)
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if not panicked:
                held.seek(0)
                os.write(2, held.read())


def rows_without_calamine(path: Path, name: str) -> list[list[Any]]:
    """The tab's cells as calamine would give them (blank is "", whole numbers float),
    from row 1, every row as wide as the widest."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns of the very cell we report
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = [
                [_as_calamine(value) for value in row]
                for row in book[name].iter_rows(values_only=True)
            ]
        finally:
            book.close()
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def _as_calamine(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
