"""Settings from parsed TOML: each key typed and checked, every mistake named by its key."""

from __future__ import annotations

import dataclasses
import functools
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from automations.config.settings import AlertSettings, Settings, Tabs
from automations.core.values import parse_email
from automations.core.vocabulary import Kind
from automations.core.window import parse_window
from automations.errors import ConfigError, ValueProblem, WindowProblem

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


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The field types of a settings class, resolved once (a test loads settings often)."""
    return get_type_hints(cls)


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    """Build dataclass `cls` from TOML data, naming the key of every mistake."""
    hints = _hints(cls)
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
        _refuse_nul(kwargs[key], dotted)
        if dotted in CHOICES and kwargs[key] not in CHOICES[dotted]:
            options = ", ".join(repr(c) for c in CHOICES[dotted])
            raise ConfigError(f"config key {dotted!r} is {value!r}; expected one of {options}")
    return cls(**kwargs)


def _refuse_nul(value: Any, dotted: str) -> None:
    """No text value may hold a NUL: as a path it stopped the run deep in the file system
    ("embedded null byte"), as a tab name it was written as typed."""
    if isinstance(value, dict):
        texts = [*value, *value.values()]
    else:
        texts = (
            [value] if isinstance(value, str) else list(value) if isinstance(value, tuple) else []
        )
    if any(isinstance(text, str) and "\x00" in text for text in texts):
        raise ConfigError(f"config key {dotted!r} holds a NUL character (\\x00); retype the value")


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


# What an .xlsx tab name cannot be (Excel's rule): found at the end of a run, when the
# toolkit file is written, it was a write failure blaming the folder or the disk.
XLSX_TAB_LENGTH = 31
XLSX_TAB_FORBIDDEN = "[]:*?/\\"


def _check_xlsx_tab(name: str, title: str) -> None:
    """A tab name a workbook can hold, or a ConfigError naming its key and what is wrong."""
    if len(title) > XLSX_TAB_LENGTH:
        wrong = f"is {len(title)} characters; a workbook's tab names hold at most {XLSX_TAB_LENGTH}"
    else:
        bad = next((c for c in title if c in XLSX_TAB_FORBIDDEN), None)
        if bad is None:
            return
        wrong = f"has {bad!r}, which a workbook's tab names cannot hold"
    raise ConfigError(
        f"config key 'sheet.tabs.{name}' {wrong} (name the tab without "
        f"{' '.join(XLSX_TAB_FORBIDDEN)}, in at most {XLSX_TAB_LENGTH} characters)"
    )


def _check_tabs(tabs: Tabs, backend: str) -> None:
    """Every tab name distinct (SHEET.md): a toolkit tab named like a user tab would be
    written over the user's rows; in a workbook, each one a workbook can hold."""
    seen: dict[str, str] = {}
    for name, title in dataclasses.asdict(tabs).items():
        if backend == "xlsx":
            _check_xlsx_tab(name, title)
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
    _check_tabs(settings.sheet.tabs, settings.sheet.backend)
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
