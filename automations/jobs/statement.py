"""`partners statement`: the quarterly referral statements due today (RULES.md, Statements),
a nurture run of that one kind, so review, caps, windows and at-most-once are the same."""

from __future__ import annotations

import datetime as dt

from automations.config import Settings
from automations.errors import UsageError
from automations.jobs import nurture as nurture_job
from automations.jobs.sending import Clock, Progress


def run_statements(
    settings: Settings,
    today: dt.date,
    clock: Clock,
    send: bool,
    progress: Progress | None = None,
) -> nurture_job.NurtureResult:
    """The statements due: a dry run, or with `send` sent (or proposed under review)."""
    if settings.statement.every == "none":
        raise UsageError(
            'partners statement: statements are off ([statement] every = "none"); set it to '
            '"quarter" to send them (docs/reference/config.md)'
        )
    options = nurture_job.NurtureOptions(send=send, only=("statement",))
    return nurture_job.run_nurture(settings, today, clock, options, progress)
