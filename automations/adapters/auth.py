"""Signing in without passwords (EMAIL.md, "Signing in"; FIELD-NOTES.md): OAuth tokens for
XOAUTH2 over SMTP and IMAP, and the Google Sheets desktop sign-in.

The only importer of msal and google-auth-oauthlib. `partners login` runs the one-time
interactive flow (Google: installed-app flow on a loopback redirect; Microsoft: device code)
and caches the refresh token, mode 0600, under the XDG config folder; unattended runs only
ever refresh, and say "run `partners login ...`" when they cannot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automations.errors import ConfigError, LoginNeeded, ToolkitError

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com/{tenant}"
# Tests point every provider's token URL at a local endpoint.
TOKEN_URL_VARIABLE = "PARTNERS_OAUTH_TOKEN_URL"
SCOPES = {
    ("google", "mail"): ["https://mail.google.com/"],
    ("google", "imap"): ["https://mail.google.com/"],
    ("microsoft", "mail"): ["https://outlook.office.com/SMTP.Send"],
    ("microsoft", "imap"): ["https://outlook.office.com/IMAP.AccessAsUser.All"],
}
SHEETS_SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
EARLY_SECONDS = 120  # refresh a token this long before it expires
BROWSER_PROMPT = (
    "A browser opens for Google's sign-in. If none does (over SSH, say), open this address "
    "on this computer:\n{url}"
)
# Tests point Microsoft's sign-in at a local authority (msal insists on https).
AUTHORITY_VARIABLE = "PARTNERS_OAUTH_AUTHORITY"


class TokenEndpointError(ToolkitError):
    """The provider's token endpoint could not be reached or answered nonsense."""


class Unreachable(TokenEndpointError):
    """No answer at all from a sign-in server (no network, refused, timed out): the reason."""


NETWORK_ADVICE = "check this computer's network connection and try again"


def config_home() -> Path:
    """The XDG config folder (`~/.config` unless XDG_CONFIG_HOME says otherwise)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def token_dir() -> Path:
    """Where sign-ins are cached: never in the project, so never in a commit."""
    return config_home() / "partner-automations" / "tokens"


def write_private(path: Path, text: str) -> None:
    """Write `text` readable by this user only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A unique temporary file (mkstemp: O_EXCL, 0600): a symlink planted beside the cache is
    # never followed, and two runs refreshing at once never write into the same file.
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def loosened(path: Path) -> str:
    """Make a cache readable by this user only again; what to tell the user when it was not
    ("" when it was): whoever read it can send mail as the user until it is replaced."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return ""
    if not mode & 0o077:
        return ""
    try:
        os.chmod(path, 0o600)
    except OSError:
        return (
            f"the saved sign-in {path} is readable by others (mode {mode:o}): make it "
            f"yours only with `chmod 600 {path}`"
        )
    return (
        f"the saved sign-in {path} was readable by others (mode {mode:o}); it is now readable "
        "by you only (0600)"
    )


@dataclass(frozen=True)
class Account:
    """One signed-in purpose: `mail` (SMTP) or `imap`, for a provider and a mailbox."""

    purpose: str
    provider: str
    username: str
    client_id: str = ""
    tenant: str = "common"
    client_secret_file: str = ""

    @property
    def cache(self) -> Path:
        """The cache file of this account (one per purpose, provider and mailbox)."""
        tag = hashlib.sha256(f"{self.provider}:{self.username.lower()}".encode()).hexdigest()
        return token_dir() / f"{self.purpose}-{self.provider}-{tag[:12]}.json"

    @property
    def scopes(self) -> list[str]:
        """The scopes this purpose needs from its provider."""
        return SCOPES[(self.provider, self.purpose)]

    @property
    def token_url(self) -> str:
        """The provider's token endpoint (or the local one of the tests)."""
        override = os.environ.get(TOKEN_URL_VARIABLE, "")
        if override:
            return override
        if self.provider == "google":
            return GOOGLE_TOKEN_URL
        return MICROSOFT_TOKEN_URL.format(tenant=self.tenant or "common")


def relogin_advice(account: Account) -> str:
    """What to do when a refresh token is refused, for this provider."""
    command = f"run `partners login {account.purpose}`"
    if account.provider == "google":
        return (
            f"{command}. If this happens every 7 days, your Google OAuth client is still in "
            '"Testing": publish it (Google Cloud console, OAuth consent screen, "Publish app"; '
            "unverified is fine for your own account) and sign in once more"
        )
    return (
        f"{command}. Microsoft refresh tokens end after about 90 days without use, when the "
        "password changes, or when an admin revokes them"
    )


def cache_fault(cached: object) -> str:
    """What is wrong with a cache's content ("" when it is what `partners login` writes)."""
    if not isinstance(cached, dict):
        return "not the JSON object `partners login` writes"
    if not cached.get("refresh_token") or not isinstance(cached["refresh_token"], str):
        return "it holds no refresh token"
    for name in ("access_token", "client_id", "client_secret"):
        if not isinstance(cached.get(name, ""), str):
            return f"its {name} is not text"
    expires = cached.get("expires_at", 0)
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return "its expires_at is not a number"
    return ""


class OAuthTokens:
    """Access tokens for one account, refreshed from its cached refresh token."""

    def __init__(
        self,
        account: Account,
        clock: Callable[[], float] = time.time,
        post: Callable[[str, dict[str, str]], dict[str, Any]] | None = None,
    ) -> None:
        self.account = account
        self.clock = clock
        self.post = post or post_form
        self.notes: list[str] = []  # what the user should know of the cache (its mode)

    def load(self) -> dict[str, Any]:
        """The cached sign-in; LoginNeeded when there is none or it is not one we wrote.
        A cache readable by others is made private again and noted in `notes`."""
        path = self.account.cache
        again = f"`partners login {self.account.purpose}`"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise LoginNeeded(
                f"{self.account.purpose} is set to sign in with OAuth ({self.account.provider}) "
                f"but nobody has signed in yet: run {again}"
            ) from None
        except (OSError, ValueError) as exc:
            raise LoginNeeded(
                f"the saved sign-in {path} cannot be read ({exc}): run {again}"
            ) from None
        note = loosened(path)
        if note and note not in self.notes:
            self.notes.append(note)
        try:
            cached = json.loads(text)
        except ValueError:
            cached = None
        wrong = cache_fault(cached)
        if wrong:
            raise LoginNeeded(
                f"the saved sign-in {path} is damaged ({wrong}): run {again} to sign in "
                "again (it replaces the file)"
            )
        assert isinstance(cached, dict)
        return cached

    def access_token(self) -> str:
        """A valid access token: the cached one, else one refreshed now."""
        cached = self.load()
        if cached.get("access_token") and float(cached.get("expires_at", 0)) > (
            self.clock() + EARLY_SECONDS
        ):
            return str(cached["access_token"])
        return self.refresh(cached)

    def refresh(self, cached: dict[str, Any]) -> str:
        """Trade the refresh token for a new access token and keep it (and a rotated
        refresh token) in the cache."""
        account = self.account
        form = {
            "grant_type": "refresh_token",
            "refresh_token": str(cached.get("refresh_token", "")),
            "client_id": str(cached.get("client_id", "")),
        }
        if cached.get("client_secret"):
            form["client_secret"] = str(cached["client_secret"])
        if account.provider == "microsoft":
            form["scope"] = " ".join([*account.scopes, "offline_access"])
        try:
            answer = self.post(account.token_url, form)
        except Unreachable as exc:
            raise TokenEndpointError(
                f"the {account.provider.title()} sign-in server cannot be reached to refresh the sign-in "
                f"for {account.purpose} ({exc}): {NETWORK_ADVICE}"
            ) from None
        if "access_token" not in answer:
            error = str(answer.get("error", "no access token"))
            description = str(answer.get("error_description", "")).splitlines()[0:1]
            said = f"{error}: {description[0]}" if description else error
            if error in ("invalid_grant", "interaction_required", "invalid_client"):
                raise LoginNeeded(
                    f"the {account.provider} sign-in for {account.purpose} "
                    f"({account.username}) was refused ({said}): {relogin_advice(account)}"
                )
            raise TokenEndpointError(
                f"the {account.provider} token endpoint refused to refresh the sign-in for "
                f"{account.purpose} ({said})"
            )
        now = self.clock()
        try:
            lasts = float(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lasts = 0.0  # good for this connection; the next one refreshes again
        cached = {
            **cached,
            "access_token": str(answer["access_token"]),
            "expires_at": now + lasts,
            "refresh_token": answer.get("refresh_token") or cached.get("refresh_token", ""),
            "refreshed_at": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds"),
        }
        write_private(account.cache, json.dumps(cached, indent=2))
        return str(answer["access_token"])

    def status(self) -> str:
        """Who is signed in, to what, and when the token was last refreshed (`check`)."""
        try:
            cached = self.load()
        except LoginNeeded as exc:
            return str(exc)
        who = cached.get("signed_in_as") or self.account.username
        when = cached.get("refreshed_at", "never")
        return (
            f"{self.account.purpose}: signed in with {self.account.provider} as {who}, "
            f"token last refreshed {when}"
        )


def post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST a form to a token endpoint; the JSON answer, also for a 4xx (it says why)."""
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    except urllib.error.URLError as exc:
        reason = _reason(exc.reason) if isinstance(exc.reason, BaseException) else exc.reason
        raise Unreachable(f"{urllib.parse.urlsplit(url).netloc}: {reason}") from None
    except OSError as exc:  # a timeout or a connection dropped mid-answer
        raise Unreachable(f"{urllib.parse.urlsplit(url).netloc}: {_reason(exc)}") from None
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        raise TokenEndpointError(f"the token endpoint {url} did not answer JSON") from None
    if not isinstance(answer, dict):
        raise TokenEndpointError(f"the token endpoint {url} did not answer an object")
    return answer


# --- the one-time interactive sign-ins (`partners login`) ----------------------------------


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
            f"to sign in ({_reason(exc)}): {NETWORK_ADVICE}"
        ) from None
    except ValueError as exc:  # msal: the authority's discovery gave no usable answer
        raise LoginNeeded(
            f"Microsoft's sign-in could not start ({exc}): {NETWORK_ADVICE}"
        ) from None
    if "user_code" not in flow:
        raise LoginNeeded(
            f"Microsoft refused to start the sign-in: {flow.get('error_description')}"
        )
    say(str(flow["message"]))
    try:
        result = app.acquire_token_by_device_flow(flow)
    except requests.RequestException as exc:  # the network went while the user typed the code
        raise Unreachable(
            f"the Microsoft sign-in did not finish: its server could not be reached "
            f"({_reason(exc)}): {NETWORK_ADVICE}, then run `partners login {account.purpose}` again"
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
    """The browser, the loopback redirect and the code exchange; any failure in words."""
    try:
        return flow.run_local_server(
            port=0, open_browser=can_open_browser(), authorization_prompt_message=BROWSER_PROMPT
        )
    except Warning as exc:  # oauthlib: fewer scopes granted than asked (a box left unticked)
        raise LoginNeeded(
            f"Google's sign-in did not grant what the toolkit needs ({exc}): run the login "
            "again and allow every access the consent page asks for"
        ) from None
    except Exception as exc:  # oauthlib and requests raise many kinds; all mean "not done"
        raise LoginNeeded(f"Google's sign-in did not finish: {exc}") from None


def can_open_browser() -> bool:
    """Whether this machine has a browser to open (a server over SSH has none: the address is
    printed instead, and the redirect comes back to this machine's loopback)."""
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def _reason(exc: BaseException) -> str:
    """The innermost reason of a network error ("Connection refused"), without the layers
    requests and urllib3 wrap around it."""
    while exc.__context__ is not None or exc.__cause__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


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
                    f"({_reason(exc)}): {NETWORK_ADVICE}"
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
