"""What every command shares: the day, the clock, problems on stderr, the exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence

from automations import console as report
from automations.config import Settings
from automations.core.tables import Problem
from automations.errors import UsageError
from automations.jobs.pipeline import RunResult
from automations.jobs.plans.planned import Planned

EXIT_OK, EXIT_PROBLEMS, EXIT_FATAL = 0, 1, 2
PROGRESS_FROM = 6  # show progress when sending more than a handful


# The days a run can decide for: the sheet's dates start in 1900, and the day arithmetic
# (a year back, cadences ahead, pandas' nanosecond times) overflows far beyond these.
TODAY_RANGE = (dt.date(1900, 1, 1), dt.date(2199, 12, 31))


def today_of(args: argparse.Namespace, settings: Settings | None) -> dt.date:
    text = getattr(args, "today", None)
    if text:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError as exc:
            raise UsageError(f"--today {text!r} is not a date (write YYYY-MM-DD)") from exc
        first, last = TODAY_RANGE
        if not first <= day <= last:
            raise UsageError(
                f"--today {text!r} is outside the days a run can decide for ({first} to {last})"
            )
        return day
    zone = settings.zone if settings else None
    return dt.datetime.now(zone).date()


def clock_of(settings: Settings) -> Callable[[], dt.datetime]:
    """The real time in the configured zone (the Log records it even with --today)."""
    zone = settings.zone
    return lambda: (
        dt.datetime.now(dt.UTC).astimezone(zone) if zone else dt.datetime.now().astimezone()
    )


def print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(report.problem_line(problem), file=sys.stderr)


def code_of(problems: Sequence[Problem]) -> int:
    return EXIT_PROBLEMS if problems else EXIT_OK


def progress_of(quiet: bool) -> report.SendingProgress:
    return report.SendingProgress(quiet, PROGRESS_FROM)


def finish(result: RunResult[Planned], settings: Settings, quiet: bool) -> int:
    """Print what a nurture-shaped run did (stdout) and what needs a look (stderr)."""
    print_problems(result.problems)
    for line in report.nurture_lines(result, settings, quiet):
        print(line)
    for line in report.nurture_warnings(result):
        print(f"partners: {line}", file=sys.stderr)
    return result.exit_code
