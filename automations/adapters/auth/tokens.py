"""OAuth tokens for XOAUTH2 over SMTP and IMAP (EMAIL.md, "Signing in"; FIELD-NOTES.md):
the cache `partners login` writes (mode 0600, under the XDG config folder, written through a
unique temporary file), refreshed by unattended runs, which say "run `partners login ...`"
when they cannot."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automations.errors import LoginNeeded, TokenEndpointError, Unreachable

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

    def load(self) -> dict[str, Any]:
        """The cached sign-in; LoginNeeded when there is none or it is not one we wrote."""
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


def sign_in_times(account: Account) -> tuple[dt.datetime | None, dt.datetime | None]:
    """When `partners login` made the saved sign-in and when a run last refreshed it
    (None where the cache does not say, or there is no cache): for the Status tab."""
    try:
        cached = json.loads(account.cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(cached, dict):
        return None, None
    return _moment(cached.get("signed_in_at")), _moment(cached.get("refreshed_at"))


def _moment(value: object) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


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
        reason = reason_of(exc.reason) if isinstance(exc.reason, BaseException) else exc.reason
        raise Unreachable(f"{urllib.parse.urlsplit(url).netloc}: {reason}") from None
    except OSError as exc:  # a timeout or a connection dropped mid-answer
        raise Unreachable(f"{urllib.parse.urlsplit(url).netloc}: {reason_of(exc)}") from None
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        raise TokenEndpointError(f"the token endpoint {url} did not answer JSON") from None
    if not isinstance(answer, dict):
        raise TokenEndpointError(f"the token endpoint {url} did not answer an object")
    return answer


def reason_of(exc: BaseException) -> str:
    """The innermost reason of a network error ("Connection refused"), without the layers
    requests and urllib3 wrap around it."""
    while exc.__context__ is not None or exc.__cause__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
