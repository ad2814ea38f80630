"""A tab calamine cannot read without panicking, named by the row that makes it panic.

calamine (Rust) panics on a date-formatted cell whose number lies far outside any date
(-1e15 typed in `First contact`): the panic is a BaseException that no `except Exception`
stops, and Rust prints its own backtrace, so the run ended in one. Reading the tab row by
row finds the row; the tab cannot be read past it, so the run stops naming it (SHEET.md).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from automations.errors import SheetError


def is_panic(exc: BaseException) -> bool:
    """Whether `exc` is a Rust panic surfacing through pyo3 (it has no importable class)."""
    return type(exc).__name__ == "PanicException"


@contextlib.contextmanager
def panic_unprinted() -> Iterator[None]:
    """Hold what is written to file descriptor 2 while calamine reads, and pass it on
    unless it panicked: Rust prints a panic's message there itself, which would read as a
    crash to the user, whose row is named instead."""
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


def panic_row_error(sheet: Any, name: str) -> SheetError:
    """The error naming the row of `sheet` (tab `name`) that makes calamine panic."""
    first_row = sheet.start[0] if sheet.start else 0
    read = 0
    with contextlib.suppress(BaseException), panic_unprinted():
        for _ in sheet.iter_rows():
            read += 1
    return SheetError(
        f"{name}!{first_row + read + 1}: a cell formatted as a date holds a number no date can "
        "be (long before 1900 or after 9999), and the tab cannot be read past it; retype it "
        "as a date such as 2026-11-24, or clear the cell"
    )
