"""`partners calendar --ics FILE [--owner EMAIL]`: the owner's reminders as an iCalendar
file (CLI.md)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from automations.commands.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    clock_of,
    print_problems,
    today_of,
)
from automations.config import Settings
from automations.core.agenda import Reminder


def calendar(args: argparse.Namespace, settings: Settings) -> int:
    """Write the feed; say how many reminders of which kind it holds, for whom."""
    from automations.jobs.agenda import run_calendar

    path = Path(args.ics)
    result = run_calendar(
        settings, today_of(args, settings), clock_of(settings)(), path, args.owner
    )
    print_problems(result.problems)
    for line in result.warnings:
        print(f"partners: {line}", file=sys.stderr)
    if not getattr(args, "quiet", False):
        print(summary_line(result.reminders, result.owner, path))
    return EXIT_PROBLEMS if result.problems else EXIT_OK


def summary_line(reminders: list[Reminder], owner: str, path: Path) -> str:
    """`12 reminder(s) for you@… in FILE: 5 nurture, 3 follow-up, …`."""
    counts = Counter(r.kind.replace("_", "-") for r in reminders)
    said = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
    return f"{len(reminders)} reminder(s) for {owner} in {path}" + (f": {said}" if said else "")
