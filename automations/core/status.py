"""The Status tab: a few rows a user reads first (SHEET.md, Status): how the last run
ended, in a sentence; what it sent; what waits for approval and since when; row problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

STATUS_HEADER = ("what", "status")
ENDINGS = {0: "finished OK", 1: "finished with problems", 2: "failed"}


def status_rows(
    started: dt.datetime | None,
    code: int,
    detail: str,
    sent: int,
    waiting: Sequence[str] | None,
    problems: Sequence[str],
    disputes: Sequence[str] = (),
) -> list[list[str]]:
    """The Status tab's rows, header first (SHEET.md, Status). `waiting`: the proposed_on
    of each proposal waiting for approval (None: this run did not look); `problems`: row problems as `Tab!row ...`."""
    when = f" of {started:%Y-%m-%d %H:%M}" if started else ""
    ending = ENDINGS[min(max(code, 0), 2)]
    rows = [list(STATUS_HEADER), ["last run", f"The run{when} {ending}: {detail}."]]
    rows.append(["sent", f"It sent {_emails(sent)}." if sent else "It sent no email."])
    if waiting:
        since = min(str(w)[:10] for w in waiting)
        rows.append(
            [
                "waiting",
                f"{_emails(len(waiting))} {'waits' if len(waiting) == 1 else 'wait'} for your "
                f"approval in Review, since {since}.",
            ]
        )
    elif waiting is not None:
        rows.append(["waiting", "Nothing waits for your approval."])
    if disputes:  # RULES.md, Statements: open until a Touches row of kind `statement`
        rows.append(["disputed statements", f"{len(disputes)} to settle: " + "; ".join(disputes)])
    if problems:
        shown = "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else "")
        rows.append(["row problems", f"{len(problems)} row(s) need a fix: {shown}"])
    else:
        rows.append(["row problems", "No row has a problem."])
    return rows


def _emails(n: int) -> str:
    return f"{n} email" if n == 1 else f"{n} emails"
