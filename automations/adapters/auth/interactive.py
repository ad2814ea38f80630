"""The one-time interactive sign-ins (`partners login`; EMAIL.md, "Signing in"): Google's
installed-app flow on a loopback redirect, Microsoft's device code through msal, and the
Google Sheets desktop sign-in. The only importer of msal and google-auth-oauthlib."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automations.adapters.auth.tokens import (
    AUTHORITY_VARIABLE,
    BROWSER_PROMPT,
    MICROSOFT_AUTHORITY,
    NETWORK_ADVICE,
    SHEETS_SCOPES,
    Account,
    config_home,
    reason_of,
    write_private,
)
from automations.errors import ConfigError, LoginNeeded, Unreachable


def login(accounts: list[Account], say: Callable[[str], None]) -> str:
    """Sign in once for `accounts` (same provider and mailbox: one sign-in covers them all),
    cache the tokens 0600, and return who signed in. Never prints a token."""
    first = accounts[0]
    scopes = sorted({s for a in accounts for s in a.scopes})
    if first.provider == "google":
        answer = google_installed_app_flow(first, scopes, say)
    else:
        answer = microsoft_device_flow(first, scopes, say)
    now = time.time()
    for account in accounts:
        cached = {
            "provider": account.provider,
            "purpose": account.purpose,
            "username": account.username,
            "signed_in_as": answer.get("signed_in_as", ""),
            "client_id": answer.get("client_id", account.client_id),
            "client_secret": answer.get("client_secret", ""),
            "refresh_token": answer["refresh_token"],
            "access_token": answer.get("access_token", ""),
            "expires_at": now + float(answer.get("expires_in", 0)),
            "refreshed_at": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds"),
            # When the refresh token was issued: a Google client in Testing ends it 7 days on.
            "signed_in_at": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds"),
        }
        write_private(account.cache, json.dumps(cached, indent=2))
    return str(answer.get("signed_in_as") or first.username)


def google_installed_app_flow(
    account: Account, scopes: list[str], say: Callable[[str], None]
) -> dict[str, Any]:
    """Google's installed-app flow: a browser, a loopback redirect, a refresh token."""
    if not account.client_secret_file:
        raise ConfigError(
            f"[{_section(account)}] client_secret_file must name your Google OAuth desktop "
            "client's JSON file (Google Cloud console, APIs & Services, Credentials, 'Desktop app')"
        )
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        flow = InstalledAppFlow.from_client_secrets_file(account.client_secret_file, scopes)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{account.client_secret_file} is not a Google OAuth client: {exc}"
        ) from None
    say(f"Signing in to Google as {account.username}.")
    creds = _finish_google_flow(flow)
    if not creds.refresh_token:
        raise LoginNeeded("Google gave no refresh token: run `partners login` again")
    return {
        "refresh_token": creds.refresh_token,
        "access_token": creds.token,
        "expires_in": max(0.0, (creds.expiry - dt.datetime.utcnow()).total_seconds())
        if creds.expiry
        else 0,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "signed_in_as": account.username,
    }


def microsoft_device_flow(
    account: Account, scopes: list[str], say: Callable[[str], None]
) -> dict[str, Any]:
    """Microsoft's device-code flow through msal: works over SSH, no browser here."""
    if not account.client_id:
        raise ConfigError(
            f"[{_section(account)}] client_id must be your Entra ID app's Application (client) "
            "ID (Entra ID admin center, App registrations, a public client with device code)"
        )
    import msal
    import requests

    local = os.environ.get(AUTHORITY_VARIABLE, "")
    authority = local or MICROSOFT_AUTHORITY.format(tenant=account.tenant or "common")
    try:
        app = msal.PublicClientApplication(
            account.client_id, authority=authority, instance_discovery=not local
        )
        flow = app.initiate_device_flow(scopes=scopes)
    except requests.RequestException as exc:  # msal reaches its login host at once
        raise Unreachable(
            f"cannot reach Microsoft's sign-in server {urllib.parse.urlsplit(authority).hostname} "
            f"to sign in ({reason_of(exc)}): {NETWORK_ADVICE}"
        ) from None
    except ValueError as exc:  # msal: the authority's discovery gave no usable answer
        raise LoginNeeded(
            f"Microsoft's sign-in could not start ({exc}): {NETWORK_ADVICE}"
        ) from None
    if "user_code" not in flow:
        said = str(flow.get("error_description") or flow.get("error") or flow).splitlines()[0]
        raise LoginNeeded(
            f"Microsoft refused to start the sign-in ({said}): check [{_section(account)}] "
            "client_id (the Application (client) ID of your app in the Entra ID admin center) "
            "and tenant, and that the app allows public client flows (Authentication, "
            "'Allow public client flows': Yes)"
        )
    say(str(flow["message"]))
    try:
        result = app.acquire_token_by_device_flow(flow)
    except requests.RequestException as exc:  # the network went while the user typed the code
        raise Unreachable(
            f"the Microsoft sign-in did not finish: its server could not be reached "
            f"({reason_of(exc)}): {NETWORK_ADVICE}, then run `partners login {account.purpose}` again"
        ) from None
    if "refresh_token" not in result:
        raise LoginNeeded(
            f"the Microsoft sign-in did not finish: {result.get('error_description') or result}"
        )
    claims = result.get("id_token_claims") or {}
    return {
        "refresh_token": result["refresh_token"],
        "access_token": result.get("access_token", ""),
        "expires_in": result.get("expires_in", 0),
        "client_id": account.client_id,
        "signed_in_as": claims.get("preferred_username", account.username),
    }


def _finish_google_flow(flow: Any) -> Any:
    """The browser, the loopback redirect and the code exchange; any failure in words.
    With no browser here (over SSH), a fixed port and the `ssh -L` command that forwards it."""
    browser = can_open_browser()
    port = 0 if browser else _free_port()
    prompt = BROWSER_PROMPT if browser else no_browser_prompt(port)
    try:
        return flow.run_local_server(
            host="localhost", port=port, open_browser=browser, authorization_prompt_message=prompt
        )
    except Warning as exc:  # oauthlib: fewer scopes granted than asked (a box left unticked)
        raise LoginNeeded(
            f"Google's sign-in did not grant what the toolkit needs ({exc}): run the login "
            "again and allow every access the consent page asks for"
        ) from None
    except Exception as exc:  # oauthlib and requests raise many kinds; all mean "not done"
        raise LoginNeeded(f"Google's sign-in did not finish: {exc}") from None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def no_browser_prompt(port: int) -> str:
    """What to do when no browser opens here: Google sends the browser back to this machine's
    loopback, so over SSH the user forwards that port from their own computer (EMAIL.md)."""
    import getpass
    import socket

    ssh = os.environ.get("SSH_CONNECTION", "").split()
    host = ssh[2] if len(ssh) >= 3 else socket.gethostname()
    return (
        "No browser opens on this machine. On your own computer, forward the sign-in's "
        f"return port first (over SSH):\n  ssh -L {port}:localhost:{port} "
        f"{getpass.getuser()}@{host}\nthen open this address in your browser there:\n{{url}}"
    )


def can_open_browser() -> bool:
    """Whether this machine has a browser to open (a server over SSH has none: the address is
    printed instead, and the redirect comes back to this machine's loopback)."""
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def _section(account: Account) -> str:
    return "mail" if account.purpose == "mail" else "imap"


# --- Google Sheets (the sheet adapter gets credentials, never this module) -----------------


def sheets_token_file() -> Path:
    """Where the Google Sheets desktop sign-in is cached."""
    return config_home() / "partner-automations" / "google-token.json"


def sheets_desktop_credentials(
    client_file: str, interactive: bool | None = None, fresh: bool = False
) -> Any:
    """The Sheets sign-in of an OAuth desktop client: refreshed from the cache; the browser
    flow only from a terminal (the first run, README), never in an unattended run (cron).
    `fresh` (`partners login sheet`): sign in again whatever the cache holds."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    from google.auth.exceptions import RefreshError, TransportError
    from google.auth.transport.requests import Request

    path = sheets_token_file()
    creds = None
    if path.exists() and not fresh:
        creds = _saved_sheets_sign_in(path)
        if creds.valid:
            return creds
        if creds.refresh_token:
            try:
                creds.refresh(Request())
            except TransportError as exc:
                raise Unreachable(
                    f"cannot reach Google's sign-in server to refresh the Sheets sign-in "
                    f"({reason_of(exc)}): {NETWORK_ADVICE}"
                ) from None
            except RefreshError as exc:
                if not interactive:
                    raise LoginNeeded(
                        f"Google refused the saved Sheets sign-in ({exc}): run `partners check` "
                        "once in a terminal to sign in again. If this happens every 7 days, "
                        'your OAuth client is in "Testing": publish it ("In production"; '
                        "unverified is fine for your own account)"
                    ) from None
            else:
                write_private(path, creds.to_json())
                return creds
    if not interactive:
        raise LoginNeeded(
            "the Google Sheets OAuth client has no saved sign-in: run `partners check` once "
            "in a terminal (it opens a browser to sign in), then runs are unattended"
        )
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_secrets_file(client_file, SHEETS_SCOPES)
    creds = _finish_google_flow(flow)
    write_private(path, creds.to_json())
    return creds


def _saved_sheets_sign_in(path: Path) -> Any:
    """The Sheets sign-in `partners login sheet` saved; LoginNeeded naming the file when it
    is not one (garbage, another shape, a key missing)."""
    from google.oauth2.credentials import Credentials

    try:
        return Credentials.from_authorized_user_file(str(path), SHEETS_SCOPES)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise LoginNeeded(
            f"the saved Sheets sign-in {path} is damaged ({str(exc).splitlines()[0]}): run "
            "`partners login sheet` to sign in again (it replaces the file)"
        ) from None
