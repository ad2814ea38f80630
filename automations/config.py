"""Settings from `config/partners.toml`: dataclasses, validation, secrets from the environment."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from automations.core.engine.rules import Rules, StatementSettings
from automations.core.values import parse_email
from automations.core.vocabulary import Kind
from automations.core.window import SendWindow, parse_window
from automations.errors import ConfigError, ValueProblem, WindowProblem

DEFAULT_CONFIG_PATH = Path("config/partners.toml")


@dataclass(frozen=True)
class Tabs:
    """Tab names in the sheet."""

    partners: str = "Partners"
    referrals: str = "Referrals"
    touches: str = "Touches"
    survey: str = "Survey"
    unsubscribes: str = "Unsubscribes"
    health: str = "Health"
    log: str = "Log"
    review: str = "Review"
    status: str = "Status"


@dataclass(frozen=True)
class SheetSettings:
    """Where the sheet lives and how its text values are read."""

    backend: str = "xlsx"
    path: str = "data/partners.xlsx"
    spreadsheet: str = ""
    credentials: str = ""
    date_order: str = ""
    tabs: Tabs = field(default_factory=Tabs)


@dataclass(frozen=True)
class MailSettings:
    """How email leaves the machine."""

    backend: str = "outbox"
    outbox_dir: str = "outbox"
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    timeout: float = 30.0
    ca_file: str = ""
    retry_attempts: int = 3
    retry_backoff: float = 2.0
    max_per_minute: int = 20
    max_per_run: int = 100
    max_per_day: int = 450
    unsubscribe_url: str = ""
    auth: str = "password"  # or "oauth" (XOAUTH2 with a token from `partners login mail`)
    provider: str = ""  # "google" or "microsoft", with auth = "oauth"
    client_id: str = ""  # microsoft: the Entra ID app's Application (client) ID
    tenant: str = "common"  # microsoft: "common", "organizations", "consumers" or a tenant id
    client_secret_file: str = ""  # google: the OAuth desktop client's JSON file
    # The kinds that wait for the user's approval (EMAIL.md, review): "all", "none" or a list.
    review: tuple[str, ...] = ()
    review_expires_days: int = 14
    bcc: tuple[str, ...] = ()  # a CRM's logging address, say: a recipient, never a header
    cc_owner: bool = False  # the relationship owner in Cc when they are not the sender
    send_days: tuple[str, ...] = ()  # "mon" … "sun"; empty: every day
    send_hours: str = ""  # "09:00-17:00" in the configured timezone; empty: any hour
    holidays: tuple[str, ...] = ()  # dates partner mail waits, "2026-12-25"

    @property
    def window(self) -> SendWindow:
        """When partner mail may go (checked when the config is read)."""
        return parse_window(self.send_days, self.send_hours, self.holidays)


@dataclass(frozen=True)
class SenderSettings:
    """Who the email is from."""

    name: str = "Your Name"
    email: str = "you@example.com"
    reply_to: str = ""
    signature: str = ""
    currency: str = "USD"
    pitch: str = ""  # one sentence on what you do, for the outreach


@dataclass(frozen=True)
class SurveySettings:
    """The partnership survey form and how its columns map to items."""

    form_url: str = ""
    email_field: str = ""
    respondent_field: str = ""
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImapSettings:
    """The inbox read for replies and bounces (optional)."""

    host: str = ""
    port: int = 993
    security: str = "ssl"
    username: str = ""
    folder: str = "INBOX"
    required: bool = True
    lookback_days: int = 30
    timeout: float = 30.0
    ca_file: str = ""
    save_sent: bool = False
    sent_folder: str = "Sent"
    scan_sent: bool = False  # the user's own emails to partners in sent_folder are touches
    auth: str = "password"
    provider: str = ""
    client_id: str = ""
    tenant: str = "common"
    client_secret_file: str = ""


@dataclass(frozen=True)
class CalendarSettings:
    """Calendars whose meetings with partners are touches (RULES.md; optional)."""

    ics: tuple[str, ...] = ()  # private iCal addresses (https://, webcal://) or .ics files
    lookback_days: int = 365  # how far back a meeting still counts (read once, kept)
    timeout: float = 20.0  # seconds for each feed in all, however slowly it drips


@dataclass(frozen=True)
class ScheduleSettings:
    """Jobs for `partners schedule` and `partners cron`: job name -> HH:MM or weekday HH:MM."""

    timezone: str = ""
    jobs: dict[str, str] = field(default_factory=lambda: {"nurture": "09:00"})


@dataclass(frozen=True)
class AlertSettings:
    """Telling someone when unattended runs fail (EMAIL.md, "Copies, windows and alerts")."""

    ping_url: str = ""  # healthchecks-style: URL/start, URL (success), URL/fail (with why)
    email_owner_after: int = 0  # after this many failed runs in a row, one email a day; 0: off
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    """The whole configuration, with paths resolved against the project folder."""

    base_dir: Path = Path(".")
    timezone: str = ""
    sheet: SheetSettings = field(default_factory=SheetSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    sender: SenderSettings = field(default_factory=SenderSettings)
    rules: Rules = field(default_factory=Rules)
    survey: SurveySettings = field(default_factory=SurveySettings)
    imap: ImapSettings = field(default_factory=ImapSettings)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    statement: StatementSettings = field(default_factory=StatementSettings)

    def resolve(self, path: str) -> Path:
        """A config path made absolute against the project folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def zone(self) -> ZoneInfo | None:
        """The configured time zone, or None for the system's."""
        return ZoneInfo(self.timezone) if self.timezone else None


CHOICES: dict[str, tuple[str, ...]] = {
    "sheet.backend": ("xlsx", "google"),
    "sheet.date_order": ("", "MDY", "DMY", "YMD"),
    "mail.backend": ("outbox", "smtp"),
    "mail.security": ("starttls", "ssl", "none"),
    "mail.auth": ("password", "oauth"),
    "imap.auth": ("password", "oauth"),
    "mail.provider": ("", "google", "microsoft"),
    "imap.provider": ("", "google", "microsoft"),
    "imap.security": ("ssl", "starttls", "none"),
    "statement.every": ("quarter", "none"),
}


def _type_name(tp: Any) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    if tp in names or get_origin(tp) is dict:
        return names.get(tp, "a table of strings")
    return getattr(tp, "__name__", str(tp))


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    """Build dataclass `cls` from TOML data, naming the key of every mistake."""
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "base_dir"}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{where}.{key}" if where else key
        if key not in known:
            allowed = ", ".join(sorted(known))
            raise ConfigError(f"config key {dotted!r} is not known (allowed here: {allowed})")
        if dotted == "mail.review":
            kwargs[key] = _review_kinds(value)
            continue
        kwargs[key] = _coerce(hints[key], value, dotted)
        if dotted in CHOICES and kwargs[key] not in CHOICES[dotted]:
            options = ", ".join(repr(c) for c in CHOICES[dotted])
            raise ConfigError(f"config key {dotted!r} is {value!r}; expected one of {options}")
    return cls(**kwargs)


def _review_kinds(value: Any) -> tuple[str, ...]:
    """`[mail] review`: "all", "none" or a list of kinds, as the kinds it puts under review."""
    kinds = [k.value for k in Kind if k is not Kind.REVIEW]
    if value == "all":
        return tuple(kinds)
    if value == "none":
        return ()
    named = value if isinstance(value, list) else None
    if named is None or not all(isinstance(k, str) for k in named):
        raise ConfigError(
            f'config key \'mail.review\' is {value!r}; expected "all", "none" or a list of '
            f'kinds such as ["outreach", "follow_up"] (the kinds: {", ".join(kinds)})'
        )
    wrong = [k for k in named if k not in kinds]
    if wrong:
        raise ConfigError(
            f"config key 'mail.review' names {', '.join(map(repr, wrong))}, which is not a kind "
            f"of email; the kinds: {', '.join(kinds)}"
        )
    return tuple(dict.fromkeys(named))


def _coerce(tp: Any, value: Any, dotted: str) -> Any:
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"config key {dotted!r} must be a [section]")
        return _build(tp, value, dotted)  # type: ignore[arg-type]
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        tp = next(a for a in get_args(tp) if a is not type(None))
        origin = get_origin(tp)
    if origin is dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(f"config key {dotted!r} must be {_type_name(tp)}")
        return dict(value)
    if origin is tuple:  # a list of strings; one string alone is a list of one
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"config key {dotted!r} must be a string or a list of strings")
        return tuple(items)
    typed = value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if tp is int and isinstance(value, bool):
        raise ConfigError(f"config key {dotted!r} must be {_type_name(tp)}, not {value!r}")
    if not isinstance(value, tp):
        raise ConfigError(f"config key {dotted!r} must be {_type_name(tp)}, not {value!r}")
    if tp in (int, float) and value < 0:
        raise ConfigError(f"config key {dotted!r} must not be negative")
    if tp in (int, float) and dotted in POSITIVE and value <= 0:
        raise ConfigError(f"config key {dotted!r} must be above 0, not {typed!r}")
    return value


# Keys that must be above zero, not only not negative (a zero timeout fails every send).
POSITIVE = ("mail.timeout", "imap.timeout", "mail.retry_attempts", "calendar.timeout")


def _check_tabs(tabs: Tabs) -> None:
    """Every tab name distinct (SHEET.md): a toolkit tab named like a user tab would be
    written over the user's rows."""
    seen: dict[str, str] = {}
    for name, title in dataclasses.asdict(tabs).items():
        other = seen.get(title.strip().lower())
        if other is not None:
            raise ConfigError(
                f"config keys 'sheet.tabs.{other}' and 'sheet.tabs.{name}' both name the tab "
                f"{title!r}; every tab needs its own name (the toolkit writes Health and Log)"
            )
        if not title.strip():
            raise ConfigError(f"config key 'sheet.tabs.{name}' is empty; name the tab")
        seen[title.strip().lower()] = name


def _check_addresses(settings: Settings) -> None:
    """The sender's addresses as the sheet reader reads them back (it reads what we write)."""
    for key, value in (
        ("sender.email", settings.sender.email),
        ("sender.reply_to", settings.sender.reply_to),
    ):
        if not value and key == "sender.reply_to":
            continue
        try:
            parse_email(value)
        except ValueProblem as exc:
            raise ConfigError(f"config key {key!r}: {exc}") from None
    for value in settings.mail.bcc:
        try:
            parse_email(value)
        except ValueProblem as exc:
            raise ConfigError(f"config key 'mail.bcc': {exc}") from None


def base_dir_for(config_path: Path) -> Path:
    """The project folder: the parent of `config/`, else the config file's own folder."""
    folder = config_path.resolve().parent
    return folder.parent if folder.name == "config" else folder


def _check_alerts(alerts: AlertSettings) -> None:
    url = alerts.ping_url
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if url and (scheme not in ("https", "http") or not host or any(c.isspace() for c in url)):
        # Never the whole address: its path is the check's secret (EMAIL.md, alerts).
        raise ConfigError(
            f"config key 'alerts.ping_url' is not a web address ({len(url)} characters, "
            f"starting {url[:8]!r}); copy the check address as your monitoring service shows "
            "it (https://hc-ping.com/…)"
        )
    if alerts.email_owner_after < 0:
        raise ConfigError(
            "config key 'alerts.email_owner_after' must be 0 (off) or a number of failed runs"
        )


def parse_settings(data: dict[str, Any], base_dir: Path) -> Settings:
    """Settings from already-parsed TOML data (validated)."""
    settings: Settings = _build(Settings, data, "")
    settings = dataclasses.replace(settings, base_dir=base_dir)
    _check_tabs(settings.sheet.tabs)
    _check_addresses(settings)
    try:
        parse_window(settings.mail.send_days, settings.mail.send_hours, settings.mail.holidays)
    except WindowProblem as exc:
        raise ConfigError(f"config key 'mail.{exc.key}': {exc}") from None
    _check_alerts(settings.alerts)
    for name in (settings.timezone, settings.schedule.timezone):
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ConfigError(f"config key 'timezone' names an unknown zone {name!r}") from exc
    return settings


def config_path_from(arg: str | None) -> Path:
    """The config path: `--config`, else PARTNERS_CONFIG, else config/partners.toml."""
    if arg:
        return Path(arg)
    env = os.environ.get("PARTNERS_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def secret(name: str, settings: Settings) -> str:
    """A secret from the environment, else from the project's `.env` file; "" if neither."""
    value = os.environ.get(name)
    if value:
        return value
    env_file = settings.base_dir / ".env"
    if env_file.is_file():
        from dotenv import dotenv_values

        return dotenv_values(env_file).get(name) or ""
    return ""


def load_settings(path: Path) -> Settings:
    """Read and validate the TOML config at `path`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"config file {path} not found (run `partners init` to create one)"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return parse_settings(data, base_dir_for(path))
