"""`partners survey report`: the latest ratings per partner, the owner's beside them."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from automations.config import Settings
from automations.jobs.session import session
from automations.jobs.wiring import decide_options


def run_survey_report(settings: Settings, today: dt.date, now: dt.datetime) -> pd.DataFrame:
    """Per partner: their latest view, the owner's beside it, items 3+ points apart."""
    from automations.core import survey

    with session(settings, today, now, writing=False, read_inbox=False) as s:
        written = decide_options(settings).count_written
        return survey.report(s.tables, today, settings.sender.email, written)
