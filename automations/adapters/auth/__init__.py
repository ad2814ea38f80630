"""Signing in without passwords (EMAIL.md, "Signing in"; FIELD-NOTES.md): OAuth tokens for
XOAUTH2 over SMTP and IMAP, and the Google Sheets desktop sign-in.

The only importer of msal and google-auth-oauthlib. `partners login` runs the one-time
interactive flow (Google: installed-app flow on a loopback redirect; Microsoft: device code)
and caches the refresh token, mode 0600, under the XDG config folder; unattended runs only
ever refresh, and say "run `partners login ...`" when they cannot.
"""

from automations.adapters.auth.interactive import (
    can_open_browser,
    google_installed_app_flow,
    login,
    microsoft_device_flow,
    sheets_desktop_credentials,
    sheets_token_file,
)
from automations.adapters.auth.tokens import (
    AUTHORITY_VARIABLE,
    TOKEN_URL_VARIABLE,
    Account,
    OAuthTokens,
    config_home,
    loosened,
    post_form,
    token_dir,
    write_private,
)

__all__ = [
    "AUTHORITY_VARIABLE",
    "TOKEN_URL_VARIABLE",
    "Account",
    "OAuthTokens",
    "can_open_browser",
    "config_home",
    "google_installed_app_flow",
    "login",
    "loosened",
    "microsoft_device_flow",
    "post_form",
    "sheets_desktop_credentials",
    "sheets_token_file",
    "token_dir",
    "write_private",
]
