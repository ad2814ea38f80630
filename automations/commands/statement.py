"""`partners statement [--send]`: the quarterly referral statements (CLI.md)."""

from __future__ import annotations

import argparse
import contextlib

from automations.commands.common import clock_of, finish, progress_of, today_of
from automations.config import Settings
from automations.jobs.statement import run_statements


def statement(args: argparse.Namespace, settings: Settings) -> int:
    """The statements due today, as a dry run or sent with --send (CLI.md)."""
    quiet = bool(getattr(args, "quiet", False))
    with contextlib.closing(progress_of(quiet)) as progress:
        result = run_statements(
            settings, today_of(args, settings), clock_of(settings), args.send, progress
        )
    return finish(result, settings, quiet)
