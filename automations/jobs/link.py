"""`partners link-columns`: Health's action, next_due and last_touch beside each Partners row,
as formulas the user owns from then on (SHEET.md, "Status beside the partner's own row")."""

from __future__ import annotations

from automations.config import Settings
from automations.jobs.wiring import open_backend


def run_link_columns(settings: Settings) -> str:
    """Add the linked columns once on the configured sheet; what was done (CLI.md)."""
    if settings.sheet.backend == "xlsx":
        from automations.adapters.sheet.xlsx_link import link_columns

        return link_columns(settings.resolve(settings.sheet.path), settings.sheet.tabs)
    from automations.adapters.sheet.google import GoogleBackend
    from automations.adapters.sheet.google_link import link_columns as link_google

    backend = open_backend(settings)
    assert isinstance(backend, GoogleBackend)
    return link_google(backend)
