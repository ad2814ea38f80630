"""Settings from `config/partners.toml`: dataclasses, validation, secrets from the environment.

The modules: `settings` (the dataclasses), `parsing` (TOML data to checked settings) and
`loading` (the config file's place, reading it, secrets)."""

from __future__ import annotations

from automations.config.loading import (
    DEFAULT_CONFIG_PATH,
    base_dir_for,
    config_path_from,
    load_settings,
    secret,
)
from automations.config.parsing import CHOICES, POSITIVE, parse_settings
from automations.config.settings import (
    AlertSettings,
    CalendarSettings,
    ImapSettings,
    MailSettings,
    ScheduleSettings,
    SenderSettings,
    Settings,
    SheetSettings,
    SurveySettings,
    Tabs,
)

__all__ = [
    "CHOICES",
    "DEFAULT_CONFIG_PATH",
    "POSITIVE",
    "AlertSettings",
    "CalendarSettings",
    "ImapSettings",
    "MailSettings",
    "ScheduleSettings",
    "SenderSettings",
    "Settings",
    "SheetSettings",
    "SurveySettings",
    "Tabs",
    "base_dir_for",
    "config_path_from",
    "load_settings",
    "parse_settings",
    "secret",
]
