"""What the Status tab says lies ahead (SHEET.md, Status): the saved sign-ins' dates, read
from their caches, and the next job the scheduler starts, once a scheduler has run here."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from automations.adapters.auth.tokens import sign_in_times
from automations.adapters.state import Journal
from automations.config import Settings
from automations.core.status import Ahead, SignIn
from automations.errors import ToolkitError
from automations.jobs.scheduler import parse_slots, zone_name
from automations.jobs.wiring import oauth_account, oauth_purposes


def ahead_of(settings: Settings, journal: Journal, now: dt.datetime) -> Ahead:
    """The facts behind the Status tab's sign-in and next-run lines."""
    sign_ins = []
    for purpose in oauth_purposes(settings):
        try:
            account = oauth_account(settings, purpose)
        except ToolkitError:
            continue  # the run itself says what is wrong with the config
        signed, used = sign_in_times(account)
        sign_ins.append(SignIn(purpose, account.provider, account.username, signed, used))
    zone = zone_name(settings)
    return Ahead(now, tuple(sign_ins), _next_run(settings, journal, now, zone), zone)


def _next_run(
    settings: Settings, journal: Journal, now: dt.datetime, zone: str
) -> tuple[str, dt.datetime] | None:
    """The next (job, moment) of [schedule], when `partners schedule` has run jobs here
    (cron's runs leave no trace, so then the toolkit does not know the next one)."""
    try:
        if not journal.job_runs():
            return None
        slots = parse_slots(settings.schedule.jobs)
        here = now.astimezone(ZoneInfo(zone)) if zone else now.astimezone()
    except (ToolkitError, KeyError, ValueError):
        return None
    if not slots:
        return None
    when, job = min((s.last_due(here) + s.period, s.job) for s in slots)
    return job, when
