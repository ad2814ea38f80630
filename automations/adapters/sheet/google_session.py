"""The Google Sheets connection: credentials (a service account's key or a desktop client's
sign-in) and a session that sends only to Google Sheets or to the local emulator (SHEET.md;
ARCHITECTURE.md, the sheet adapter)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError

from automations.errors import ConfigError, LoginNeeded, SheetError, ToolkitError

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
GOOGLE = "https://sheets.googleapis.com"
ATTEMPTS = 5  # tries per request on 429, 5xx and timeouts


class Session(AuthorizedSession):
    """Sends only to Google Sheets, or only to the emulator named by SHEETS_EMULATOR_HOST."""

    def __init__(self, credentials: Credentials, emulator_host: str = "") -> None:
        super().__init__(credentials)
        self.emulator_host = emulator_host
        if emulator_host:
            self.trust_env = False  # no proxy between us and a loopback emulator

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if not url.startswith(GOOGLE + "/"):
            raise SheetError(f"refusing to send sheet data to {urlsplit(url).netloc}")
        if self.emulator_host:
            url = f"http://{self.emulator_host}" + url[len(GOOGLE) :]
        return super().request(method, url, *args, **kwargs)


def load_credentials(path: str, desktop: Callable[[str], Credentials] | None = None) -> Credentials:
    """A service account's key file, or an OAuth desktop client (`desktop` signs it in from
    the cache that `partners login sheet` wrote)."""
    if not path:
        raise ConfigError(
            "the google backend needs credentials: set [sheet] credentials to a service-account "
            "key or OAuth client file, or GOOGLE_APPLICATION_CREDENTIALS"
        )
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"credentials file {path} not found") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"credentials file {path} is not a readable JSON key: {exc}") from exc
    try:
        if info.get("type") == "service_account":
            from google.oauth2 import service_account

            creds: Credentials = service_account.Credentials.from_service_account_info(
                info, scopes=SCOPES
            )
            return creds
        if "installed" in info and desktop is not None:
            return desktop(path)
    except (GoogleAuthError, ValueError, KeyError) as exc:
        raise ConfigError(f"credentials file {path} cannot be used: {exc}") from exc
    raise ConfigError(
        f"credentials file {path} is neither a service-account key nor an OAuth desktop client"
    )


def cause(exc: BaseException) -> str:
    """The innermost reason of a network error ("Connection refused"), without the layers
    google-auth, requests and urllib3 wrap around it."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def refused_sign_in(exc: RefreshError, email: str) -> ToolkitError:
    """Google's token endpoint refused the credentials, in words a person can act on."""
    said = str(exc.args[0] if exc.args else exc).splitlines()[0]
    if not email:
        return LoginNeeded(
            f"Google refused the saved Sheets sign-in ({said}): run `partners login sheet`"
        )
    return ConfigError(
        f"Google refused the key of the service account {email} ({said}): the key was "
        "deleted or disabled, or this computer's clock is wrong. Make a new JSON key "
        "(Google Cloud console, IAM & Admin, Service accounts, Keys, Add key) and point "
        "[sheet] credentials at it"
    )


def api_error(what: str, code: int, exc: APIError, key: str, email: str) -> SheetError:
    """A refusal of the Sheets API in words a person can act on (`email`: the service
    account's, "" when signed in as a person)."""
    who = f"the service account {email}" if email else "the Google account you logged in with"
    detail = exc.error.get("message", "") if isinstance(exc.error, dict) else str(exc)
    if code == 403:
        return SheetError(
            f"no access to spreadsheet {key} ({what}): share the sheet with {who} as an Editor"
        )
    if code == 404:
        return SheetError(
            f"spreadsheet {key} not found ({what}): check [sheet] spreadsheet "
            "(the long id in the sheet's address)"
        )
    if code == 429:
        return SheetError(
            f"Google Sheets refused to {what}: quota exceeded (429) after {ATTEMPTS} tries; "
            "nothing was sent; try again in a few minutes"
        )
    return SheetError(f"Google Sheets refused to {what} ({code}): {detail}")
