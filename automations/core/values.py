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

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from automations.errors import ValueProblem

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
_ISO_ZONE = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
# A time of day after a date: `14:03`, `14:03:22`, `9:00:00 PM`.
_TIME = r"(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([ap])\.?m\.?)?)?"
_NUMERIC = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})" + _TIME + "$", re.IGNORECASE)
_WORDY = re.compile(
    r"^(?:(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})|([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4}))" + _TIME + "$"
)
ORDER_WORDS = {"MDY": "month first", "DMY": "day first", "YMD": "year first"}


def date_hint(order: str) -> str:
    """How text dates are read and where to change it (SHEET.md: the message says so)."""
    order = order if order in ORDER_EXAMPLE else "MDY"
    return (
        f"write 2026-11-24 or {ORDER_EXAMPLE[order]}: dates are read {ORDER_WORDS[order]}, "
        f'set by [sheet] date_order = "{order}" in the config'
    )


def _from_serial(serial: float) -> dt.date:
    if not 0 < serial <= MAX_SERIAL:
        raise ValueProblem(f"{serial!r} is not a date serial number")
    return SERIAL_EPOCH + dt.timedelta(days=math.floor(serial))


def _make(year: int, month: int, day: int, text: str, order: str) -> dt.date:
    if year < 100:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueProblem(f"{_shown(text)} is not a valid date ({date_hint(order)})") from exc


def _time_of(m: re.Match[str], first: int, text: str) -> dt.time:
    """The time of day in groups first..first+3 of `m` (midnight when absent)."""
    hour, minute, second, half = m.group(first, first + 1, first + 2, first + 3)
    if hour is None:
        return dt.time()
    h, mi, sec = int(hour), int(minute), int(second or 0)
    if half:
        if not 1 <= h <= 12:
            raise ValueProblem(f"{_shown(text)} has an hour that is not 1–12 before AM/PM")
        h = h % 12 + (12 if half.lower() == "p" else 0)
    if h > 23 or mi > 59 or sec > 59:
        raise ValueProblem(f"{_shown(text)} is not a valid time of day")
    return dt.time(h, mi, sec)


@lru_cache(maxsize=65536)
def _parse_moment_text(text: str, order: str) -> dt.datetime:
    """A date (and time of day) from text; aware when ISO text names a zone."""
    s = text.strip()
    m = _ISO.match(s)
    if m:
        rest = s[m.end() :].strip()
        if not rest or _ISO_ZONE.fullmatch(rest):
            try:
                return dt.datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
            except ValueError:
                day = _make(int(m[1]), int(m[2]), int(m[3]), s, order)
                return dt.datetime.combine(day, dt.time())
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return _from_serial_moment(float(s))
    if m := _NUMERIC.match(s):
        a, b, c = int(m[1]), int(m[2]), int(m[3])
        if len(m[1]) == 4:  # a four-digit first part is always the year
            day = _make(a, b, c, s, order)
        elif order == "DMY":
            day = _make(c, b, a, s, order)
        elif order == "YMD":
            day = _make(a, b, c, s, order)
        else:
            day = _make(c, a, b, s, order)
        return dt.datetime.combine(day, _time_of(m, 4, s))
    if m := _WORDY.match(s.lower()):
        if m[1]:
            number, month_name, year = int(m[1]), m[2], int(m[3])
        else:
            month_name, number, year = m[4], int(m[5]), int(m[6])
        if month_name in MONTHS:
            day = _make(year, MONTHS[month_name], number, s, order)
            return dt.datetime.combine(day, _time_of(m, 7, s))
    raise ValueProblem(f"{_shown(text)} is not a date ({date_hint(order)})")


def _from_serial_moment(serial: float) -> dt.datetime:
    day = _from_serial(serial)
    seconds = round((serial % 1) * 86400)
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=min(seconds, 86399))


def _in_zone(moment: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    """A naive datetime in the configured zone (aware ones converted; None: the system's)."""
    if moment.tzinfo is None:
        return moment
    local = moment.astimezone(zone) if zone else moment.astimezone()
    return local.replace(tzinfo=None)


def parse_date(value: object, order: str = "MDY", zone: dt.tzinfo | None = None) -> dt.date | None:
    """A date from ISO text, a datetime, a serial number or text in `order` (a time of day
    may follow; ISO text with a zone is converted to `zone`); None if blank."""
    moment = parse_timestamp(value, order, zone)
    return None if moment is None else moment.date()


def parse_timestamp(
    value: object, order: str = "MDY", zone: dt.tzinfo | None = None
) -> dt.datetime | None:
    """A date and time of day as a naive datetime in `zone`; a bare date is midnight."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return _in_zone(value, zone)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, bool):
        raise ValueProblem(f"{_shown(value)} is not a date")
    if isinstance(value, int | float):
        return _from_serial_moment(float(value))
    return _in_zone(_parse_moment_text(str(value), order or "MDY"), zone)


_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|CAD|AUD)\b", re.IGNORECASE)
_AMOUNT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
# `1.200,50`: dots group thousands and the comma is the decimal point (Europe).
_EUROPEAN = re.compile(r"^[+-]?\d{1,3}(?:(?:\.\d{3})+,\d+|(?:\.\d{3}){2,})$")
# `1.200` or `€ 12.500`: a thousands separator in Europe, a decimal point elsewhere.
_AMBIGUOUS = re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$")
AMOUNT_HINT = "write 1200, 1,200.50 or $1,200.00"


@lru_cache(maxsize=65536)
def _parse_amount_text(text: str) -> float:
    s = _CURRENCY.sub("", text).replace("\u00a0", "").replace(" ", "").strip()
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
    if _EUROPEAN.match(s):
        s = s.replace(".", "").replace(",", ".")
    elif _AMBIGUOUS.match(s):
        raise ValueProblem(
            f"{_shown(text)} could be {s.replace('.', '')} or {float(s):g} (the dot may group "
            f"thousands); {AMOUNT_HINT} without a dot between thousands"
        )
    if not s or not _AMOUNT.match(s) or s in "+-.":
        raise ValueProblem(f"{_shown(text)} is not an amount ({AMOUNT_HINT})")
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
    try:
        if text is not None and text.endswith("%"):
            points = _parse_amount_text(text[:-1])
        else:
            amount = parse_amount(value)
            assert amount is not None
            points = amount * 100 if 0 < abs(amount) < 1 else amount
    except ValueProblem:  # quote the cell as typed, with percent examples (CLI.md)
        raise ValueProblem(
            f"{_shown(value)} is not a percentage (write 10, 10% or 12.5 %; 0.5 means 50 %)"
        ) from None
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


# Domains email-validator refuses as not globally deliverable, that a user's own mail (an
# office's `corp.local`, a test set-up on `localhost`) may still use: the toolkit writes them
# to the Log, so it must read them back (SHEET.md: emails are validated for shape).
_PRIVATE_DOMAINS = ("local", "localhost", "test", "internal", "lan", "home.arpa", "invalid")


# The plain ASCII address almost every cell holds: a dot-atom before the @, a domain of
# letter-digit-hyphen labels ending in letters. email-validator accepts each of these as it
# is (the property test in test_values proves it), at a hundredth of its cost per address.
_PLAIN_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def plain_email(text: str) -> str | None:
    """`text` lower-cased when it is a plain address email-validator would accept as it is;
    None when only email-validator can tell."""
    if len(text) > 254 or not _PLAIN_EMAIL.fullmatch(text):
        return None
    domain = text.rpartition("@")[2]
    if domain.rpartition(".")[2].lower() in _SPECIAL_USE:
        return None
    # A label with `--` in its third and fourth places is reserved for IDNA (`xn--`):
    # only email-validator can tell whether it is a valid one (`0@00--0.com` is not).
    if any(label[2:4] == "--" for label in domain.split(".")):
        return None
    return text.lower()


@lru_cache(maxsize=262144)
def _parse_email_text(text: str) -> str:
    s = text.strip()
    plain = plain_email(s)
    if plain is not None:
        return plain
    try:
        info = validate_email(s, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        local, _, domain = s.rpartition("@")
        private = domain.lower().rstrip(".")
        if local and any(private == d or private.endswith("." + d) for d in _PRIVATE_DOMAINS):
            try:  # the part before the @ must still be well formed
                validate_email(f"{local}@example.com", check_deliverability=False)
            except EmailNotValidError:
                pass
            else:
                return f"{local}@{private}".lower()
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
