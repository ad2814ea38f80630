"""Each outside library has its named importers (ARCHITECTURE.md, "The second step": one
contract per outside library names its single importer, asserted with grimp)."""

from __future__ import annotations

import sys

import grimp
import pytest

# library -> the packages of ours that may import it directly (the adapter that owns it)
OWNERS: dict[str, tuple[str, ...]] = {
    "smtplib": ("automations.adapters.mail",),
    "imaplib": ("automations.adapters.imap", "automations.sandbox"),
    "sqlite3": ("automations.adapters.state",),
    "fcntl": ("automations.adapters.lock",),
    "python_calamine": ("automations.adapters.sheet",),
    "xlsxwriter": ("automations.adapters.sheet",),
    "openpyxl": ("automations.testing",),  # the emulator's number formats; never the product
    "gspread": ("automations.adapters.sheet",),
    "google": ("automations.adapters.sheet", "automations.adapters.auth"),
    "google_auth_oauthlib": ("automations.adapters.auth",),
    "msal": ("automations.adapters.auth",),
    # google-auth's transport, the Microsoft token endpoint and the healthchecks ping
    "requests": (
        "automations.adapters.sheet",
        "automations.adapters.auth",
        "automations.adapters.ping",
    ),
    "icalendar": ("automations.adapters.calendar",),
    "recurring_ical_events": ("automations.adapters.calendar",),
    "matplotlib": ("automations.adapters.chart",),
    "flufl": ("automations.adapters.bounces",),
    "mailparser_reply": ("automations.adapters.replytext",),
    "rich": ("automations.console",),
    "schedule": ("automations.jobs.scheduler",),
    "dotenv": ("automations.config",),
    "aiosmtpd": ("automations.sandbox",),
    # pure libraries the core may use: computing, templating, checking an address
    "jinja2": ("automations.core.render",),
    "markdown": ("automations.core.render",),
    "markupsafe": ("automations.core.render",),
    "email_validator": ("automations.core.values",),
    "numpy": ("automations.core",),
    "pandas": ("automations.core", "automations.jobs", "automations.console"),
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("automations", include_external_packages=True)


def _third_party(graph: grimp.ImportGraph) -> set[str]:
    return {
        m
        for m in graph.modules
        if not m.startswith("automations") and m not in sys.stdlib_module_names
    }


def _owned_by(module: str, owners: tuple[str, ...]) -> bool:
    return any(module == o or module.startswith(o + ".") for o in owners)


def test_every_outside_library_has_named_owners(graph: grimp.ImportGraph) -> None:
    unnamed = _third_party(graph) - set(OWNERS) - {"__future__"}
    assert not unnamed, f"name the adapter that owns {sorted(unnamed)} in OWNERS"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_a_library_is_imported_only_by_its_owner(graph: grimp.ImportGraph, library: str) -> None:
    if library not in graph.modules:
        pytest.skip(f"{library} is not imported at all")
    importers = graph.find_modules_that_directly_import(library)
    strays = sorted(m for m in importers if not _owned_by(m, OWNERS[library]))
    assert not strays, f"{library} is imported outside {OWNERS[library]}: {strays}"
