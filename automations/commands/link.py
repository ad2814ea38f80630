"""`partners link-columns` (CLI.md): one sentence saying what was added, or that nothing was."""

from __future__ import annotations

import argparse

from automations.commands.common import EXIT_OK
from automations.config import Settings
from automations.jobs.link import run_link_columns


def link_columns(args: argparse.Namespace, settings: Settings) -> int:
    """Add the formula columns beside the Partners rows once (SHEET.md, opt-in status)."""
    print(run_link_columns(settings))
    return EXIT_OK
