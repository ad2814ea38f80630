"""Normalising one cell: dates, amounts, percents, booleans, emails and enumerations.

Each parser takes what a workbook or the Sheets API hands over (native types or
text typed by a person) and returns the typed value, or raises `ValueProblem`
with a message that tells the user what was expected.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

SERIAL_EPOCH = dt.date(1899, 12, 30)  # Sheets/Excel serial day 0
MAX_SERIAL = 2958465  # 9999-12-31

MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}

ORDER_EXAMPLE = {"MDY": "11/24/2026", "DMY": "24/11/2026", "YMD": "2026/11/24"}


class ValueProblem(ValueError):
    """A cell value that cannot be read as its column's type."""


def is_blank(value: object) -> bool:
    """True for an empty cell: None, NaN, or text that is only white space."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _shown(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_NUMERIC = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_WORDY = re.compile(
    r"^(?:(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})|([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4}))$"
)


def _from_serial(serial: float) -> dt.date:
    if not 0 < serial <= MAX_SERIAL:
        raise ValueProblem(f"{serial!r} is not a date serial number")
    return SERIAL_EPOCH + dt.timedelta(days=math.floor(serial))


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    if year < 100:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueProblem(f"{_shown(text)} is not a valid date") from exc


@lru_cache(maxsize=65536)
def _parse_date_text(text: str, order: str) -> dt.date:
    s = text.strip()
    m = _ISO.match(s)
    if m and (m.end() == len(s) or s[m.end() :].strip().startswith(("+", "Z", "-"))):
        return _make(int(m[1]), int(m[2]), int(m[3]), s)
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return _from_serial(float(s))
    if (m := _NUMERIC.match(s)) and m.end() == len(s):
        a, b, c = int(m[1]), int(m[2]), int(m[3])
        if len(m[1]) == 4:  # a four-digit first part is always the year
            return _make(a, b, c, s)
        if order == "DMY":
            return _make(c, b, a, s)
        if order == "YMD":
            return _make(a, b, c, s)
        return _make(c, a, b, s)
    if m := _WORDY.match(s.lower()):
        if m[1]:
            day, month_name, year = int(m[1]), m[2], int(m[3])
        else:
            month_name, day, year = m[4], int(m[5]), int(m[6])
        if month_name in MONTHS:
            return _make(year, MONTHS[month_name], day, s)
    example = ORDER_EXAMPLE.get(order, ORDER_EXAMPLE["MDY"])
    raise ValueProblem(f"{_shown(text)} is not a date (write 2026-11-24 or {example})")


def parse_date(value: object, order: str = "MDY") -> dt.date | None:
    """A date from ISO text, a datetime, a serial number or text in `order`; None if blank."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueProblem(f"{_shown(value)} is not a date")
    if isinstance(value, int | float):
        return _from_serial(float(value))
    return _parse_date_text(str(value), order or "MDY")


def parse_timestamp(value: object, order: str = "MDY") -> dt.datetime | None:
    """A timestamp (date and time of day); a bare date is midnight. None if blank."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        day = _from_serial(float(value))
        seconds = round((float(value) % 1) * 86400)
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
    if isinstance(value, str):
        s = value.strip()
        try:
            return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            pass
        time_match = re.search(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$", s)
        parsed = parse_date(s, order)
        assert parsed is not None
        moment = dt.datetime.combine(parsed, dt.time())
        if time_match:
            h, mi, sec = int(time_match[1]), int(time_match[2]), int(time_match[3] or 0)
            if h < 24 and mi < 60 and sec < 60:
                moment = moment.replace(hour=h, minute=mi, second=sec)
        return moment
    plain = parse_date(value, order)
    return None if plain is None else dt.datetime.combine(plain, dt.time())


_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|CAD|AUD)\b", re.IGNORECASE)
_AMOUNT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")


@lru_cache(maxsize=65536)
def _parse_amount_text(text: str) -> float:
    s = _CURRENCY.sub("", text).replace("\u00a0", "").replace(" ", "").strip()
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
    if not s or not _AMOUNT.match(s) or s in "+-.":
        raise ValueProblem(f"{_shown(text)} is not an amount (write 1200, 1,200.50 or $1,200.00)")
    number = float(s.replace(",", ""))
    return -number if negative else number


def parse_amount(value: object) -> float | None:
    """A number from a native number or text like `1,200.50`, `$1,200.00`, `€ 900`."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"{_shown(value)} is not an amount")
    if isinstance(value, int | float):
        return float(value)
    return _parse_amount_text(str(value))


def parse_percent(value: object) -> float | None:
    """Percent points: `10`, `10%`, `12.5 %` -> 10, 10, 12.5; a plain number below 1 is a fraction."""
    if is_blank(value):
        return None
    text = str(value).strip() if isinstance(value, str) else None
    if text is not None and text.endswith("%"):
        points = _parse_amount_text(text[:-1])
    else:
        amount = parse_amount(value)
        assert amount is not None
        points = amount * 100 if 0 < abs(amount) < 1 else amount
    if not 0 <= points <= 100:
        raise ValueProblem(f"{_shown(value)} is not a percentage between 0 and 100")
    return points


_TRUE = {"true", "yes", "y", "1", "x", "✓", "✔", "1.0"}
_FALSE = {"false", "no", "n", "0", "0.0", ""}


def parse_bool(value: object) -> bool:
    """A checkbox: TRUE/FALSE, yes/no, y/n, 1/0, x, ✓; empty is false."""
    if is_blank(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(f"{_shown(value)} is not a yes/no value (write TRUE or FALSE)")


@lru_cache(maxsize=262144)
def _parse_email_text(text: str) -> str:
    s = text.strip()
    try:
        info = validate_email(s, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise ValueProblem(f"{_shown(text)} is not an email address ({exc})") from exc
    return info.normalized.lower()


def parse_email(value: object) -> str | None:
    """A trimmed, lower-cased email address of valid shape; None if blank."""
    if is_blank(value):
        return None
    return _parse_email_text(str(value))


def parse_enum(value: object, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    """One of `allowed`, matched case-insensitively; blank gives `default`."""
    if is_blank(value):
        return default
    text = str(value).strip().lower()
    if text in allowed:
        return text
    raise ValueProblem(f"{_shown(value)} is not one of {', '.join(allowed)}")


def parse_rating(value: object) -> float | None:
    """A survey rating from 1 to 9; None if blank."""
    number = parse_amount(value)
    if number is None:
        return None
    if not 1 <= number <= 9:
        raise ValueProblem(f"rating {number:g} is outside 1–9")
    return number


def parse_text(value: object) -> str:
    """A cell as text; blank is the empty string. Whole floats lose their `.0`."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value).strip()


def parse_whole(value: object) -> float | None:
    """A whole number of days (e.g. cadence_days); None if blank."""
    number = parse_amount(value)
    if number is None:
        return None
    if number <= 0 or not float(number).is_integer():
        raise ValueProblem(f"{_shown(value)} is not a whole number of days above 0")
    return number
