"""`partners preview` and the template check of `partners check`."""

from __future__ import annotations

import datetime as dt

from automations.config import Settings
from automations.core import compose
from automations.core.engine.decide import decide
from automations.errors import ToolkitError
from automations.jobs.sending import (
    Prepared,
    prepare,
)
from automations.jobs.session import session
from automations.jobs.wiring import (
    decide_options,
    letterhead,
    load_templates,
)


class PreviewError(ToolkitError):
    """The preview cannot be made (unknown partner, template error)."""

    exit_code = 1


def run_preview(
    settings: Settings, today: dt.date, now: dt.datetime, template: str, email: str
) -> Prepared:
    """One email exactly as it would be sent (the due one, else made up for a look)."""
    templates = load_templates(settings)
    with session(settings, today, now, writing=False, read_inbox=False) as s:
        decisions = decide(s.tables, today, settings.rules, decide_options(settings))
        draft = compose.preview_draft(
            template,
            email,
            s.tables,
            decisions,
            letterhead(settings),
            today,
            settings.rules.stale_referral_days,
        )
        if draft is None:
            raise PreviewError(f"no partner with email {email!r} in the Partners tab")
        prepared = prepare([draft], templates, settings, now)
        if prepared.faults:
            raise PreviewError(prepared.faults[0])
        return prepared.ready[0]


def check_templates(settings: Settings, today: dt.date, now: dt.datetime) -> list[str]:
    """Compile every template; one line per template that cannot be used."""
    from automations.core.render import TemplateFault

    templates = load_templates(settings)
    faults = []
    for name in sorted(templates.sources):
        try:
            templates.check(name)
        except TemplateFault as fault:
            faults.append(f"template error: {fault}")
    return faults
