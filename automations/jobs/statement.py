"""`partners statement`: the quarterly referral statements due today (RULES.md, Statements),
through the one send pipeline, so review, caps, windows and at-most-once are the same."""

from __future__ import annotations

import datetime as dt

from automations.config import Settings
from automations.errors import UsageError
from automations.jobs import pipeline
from automations.jobs.plans import PLANS
from automations.jobs.plans.planned import Planned
from automations.jobs.sending import Clock, Progress


def run_statements(
    settings: Settings,
    today: dt.date,
    clock: Clock,
    send: bool,
    progress: Progress | None = None,
) -> pipeline.RunResult[Planned]:
    """The statements due: a dry run, or with `send` sent (or proposed under review)."""
    if settings.statement.every == "none":
        raise UsageError(
            'partners statement: statements are off ([statement] every = "none"); set it to '
            '"quarter" to send them (docs/reference/config.md)'
        )
    options = pipeline.RunOptions(send=send)
    return pipeline.run(settings, today, clock, PLANS["statement"], options, progress)
