"""`partners login mail|imap|sheet` and what `partners check` says of each sign-in
(EMAIL.md, "Signing in"; CLI.md)."""

from __future__ import annotations

import json
from collections.abc import Callable

from automations.adapters.auth import (
    Account,
    OAuthTokens,
    login,
    sheets_desktop_credentials,
    sheets_token_file,
)
from automations.config import Settings, secret
from automations.core.vocabulary import SIGN_IN_PURPOSES
from automations.errors import ConfigError
from automations.jobs.wiring import oauth_account, oauth_purposes

PURPOSES = SIGN_IN_PURPOSES


def oauth_accounts(settings: Settings) -> list[Account]:
    """Every account this config signs in to with OAuth ([mail], then [imap])."""
    return [oauth_account(settings, p) for p in oauth_purposes(settings)]


def run_login(settings: Settings, purpose: str, say: Callable[[str], None]) -> str:
    """The one-time interactive sign-in for `purpose`; what to tell the user when done.
    [mail] and [imap] on the same provider and mailbox share one sign-in."""
    if purpose == "sheet":
        return _sheet_login(settings, say)
    if purpose not in oauth_purposes(settings):
        raise ConfigError(
            f'`partners login {purpose}` is for OAuth: set [{purpose}] auth = "oauth" and '
            f'provider = "google" or "microsoft" first (a password needs no sign-in)'
        )
    first = oauth_account(settings, purpose)
    together = [
        a
        for a in oauth_accounts(settings)
        if a.purpose != purpose
        and (a.provider, a.username.lower()) == (first.provider, first.username.lower())
    ]
    accounts = [first, *together]
    who = login(accounts, say)
    covered = " and ".join(a.purpose for a in accounts)
    return (
        f"Signed in as {who} with {first.provider} for {covered}; the sign-in is kept "
        f"(readable by you only) in {first.cache.parent}. Runs from now on are unattended."
    )


def _sheet_login(settings: Settings, say: Callable[[str], None]) -> str:
    sheet = settings.sheet
    if sheet.backend != "google":
        raise ConfigError(
            "`partners login sheet` is for a Google Sheet signed in with an OAuth desktop client; "
            '[sheet] backend is not "google"'
        )
    path = sheet.credentials or secret("GOOGLE_APPLICATION_CREDENTIALS", settings)
    resolved = settings.resolve(path) if path else None
    try:
        info = json.loads(resolved.read_text(encoding="utf-8")) if resolved else {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"credentials file {resolved} cannot be read: {exc}") from None
    if "installed" not in info:
        return (
            "The Google Sheet is reached with a service-account key: it needs no sign-in "
            "(share the sheet with the key's client_email as an Editor)."
        )
    say("Signing in to Google Sheets with your OAuth desktop client.")
    sheets_desktop_credentials(str(resolved), interactive=True, fresh=True)
    return f"Signed in to Google Sheets; the sign-in is kept in {sheets_token_file()}."


def sign_in_lines(settings: Settings) -> list[str]:
    """One line per OAuth account: who is signed in, to what, last refreshed (`check`)."""
    return [OAuthTokens(a).status() for a in oauth_accounts(settings)]
