"""Alerts for runs nobody watches (EMAIL.md, "Copies, windows and alerts"): a ping to a
monitoring service at the start and end of every run that writes the sheet, and one email
to the owner after `[alerts] email_owner_after` failed runs in a row, at most one a day."""

from __future__ import annotations

from automations.adapters.ping import ping
from automations.adapters.state import Journal
from automations.config import Settings
from automations.core.alerts import alert_draft
from automations.errors import ToolkitError
from automations.jobs.sending import Clock, deliver, prepare
from automations.jobs.wiring import letterhead, load_templates, mail_signed_in, open_mailer

FAILED_IN_A_ROW = "failed_runs_in_a_row"


def run_started(settings: Settings) -> str:
    """`URL/start` when a ping address is set; why it could not be pinged, or ""."""
    alerts = settings.alerts
    return ping(alerts.ping_url, "start", timeout=alerts.timeout) if alerts.ping_url else ""


def run_ended(
    settings: Settings, journal: Journal, run_id: str, failed: bool, detail: str, clock: Clock
) -> list[str]:
    """The end ping (`URL`, or `URL/fail` with the run's one-line summary), the count of
    failed runs in a row, and the owner's email when it reaches the configured number;
    what could not be done, in words (an alert never stops a run)."""
    alerts = settings.alerts
    notes = []
    if alerts.ping_url:
        said = ping(alerts.ping_url, "fail" if failed else "", detail, alerts.timeout)
        notes += [f"[alerts] ping_url: {said}"] if said else []
    failures = int(journal.counter(FAILED_IN_A_ROW) or 0) + 1 if failed else 0
    journal.set_counter(FAILED_IN_A_ROW, str(failures))
    if failed and alerts.email_owner_after and failures >= alerts.email_owner_after:
        notes += _email_owner(settings, journal, run_id, failures, detail, clock)
    return notes


def _email_owner(
    settings: Settings, journal: Journal, run_id: str, failures: int, detail: str, clock: Clock
) -> list[str]:
    now = clock()
    draft = alert_draft(settings.sender.email, failures, detail, letterhead(settings), now)
    if journal.states(draft.keys):  # one a day: today's went (or may have)
        return []
    made = prepare([draft], load_templates(settings), settings, now)
    if not made.ready:
        return [f"[alerts] the owner's email could not be made: {'; '.join(made.faults)}"]
    try:
        mail_signed_in(settings)
        mailer = open_mailer(settings)
    except ToolkitError as exc:
        return [f"[alerts] the owner's email could not go: {exc}"]
    try:
        report = deliver(
            made.ready, mailer, journal, sender=settings.sender.email, run_id=run_id, clock=clock
        )
    finally:
        mailer.close()
    if report.fatal is not None:
        return [f"[alerts] the owner's email could not go: {report.fatal}"]
    return []
