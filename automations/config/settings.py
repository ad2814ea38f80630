"""The settings of `config/partners.toml` as frozen dataclasses, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from automations.core.engine.rules import Rules, StatementSettings
from automations.core.window import SendWindow, parse_window


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
