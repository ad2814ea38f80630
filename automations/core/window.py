"""When partner mail may go (EMAIL.md, "Copies, windows and alerts"): `[mail] send_days`,
`send_hours` and `holidays`, in the configured time zone. Owners' mail is never held."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from automations.errors import WindowProblem

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SendWindow:
    """The days, hours and holidays partner mail may go; empty means always."""

    days: frozenset[int] = frozenset(range(7))  # Monday is 0
    start: dt.time = dt.time(0, 0)
    end: dt.time = dt.time(23, 59, 59, 999999)
    holidays: frozenset[dt.date] = frozenset()

    @property
    def always(self) -> bool:
        """No limit set."""
        return (
            len(self.days) == 7
            and self.start == dt.time(0, 0)
            and self.end >= dt.time(23, 59, 59)
            and not self.holidays
        )

    def open_at(self, moment: dt.datetime) -> bool:
        """Whether partner mail may go at `moment` (a local time)."""
        day = moment.date()
        return (
            day.weekday() in self.days
            and day not in self.holidays
            and self.start <= moment.time() < self.end
        )

    def next_open(self, moment: dt.datetime) -> dt.datetime | None:
        """The first moment at or after `moment` the window is open (within a year)."""
        if self.open_at(moment):
            return moment
        day = moment.date()
        for ahead in range(367):
            date = day + dt.timedelta(days=ahead)
            if date.weekday() not in self.days or date in self.holidays:
                continue
            opens = dt.datetime.combine(date, self.start, moment.tzinfo)
            if ahead == 0 and moment.time() >= self.end:
                continue
            return max(opens, moment)
        return None


def _time(text: str) -> dt.time:
    """`09:00`, `9:00`, `17:30:00`; `24:00` is the end of the day."""
    text = text.strip()
    if not text:
        raise ValueError(text)
    if text in ("24:00", "24:00:00"):
        return dt.time(23, 59, 59, 999999)
    hour, sep, rest = text.partition(":")
    return dt.time.fromisoformat(hour.zfill(2) + sep + rest)


def _hours(hours: str) -> tuple[dt.time, dt.time]:
    """The start and end of `send_hours`; a span that crosses midnight is refused, as the
    days it would belong to (`send_days`, `holidays`) could be read two ways."""
    try:
        first, last = (_time(t) for t in hours.replace("–", "-").split("-"))
    except ValueError:
        raise WindowProblem(
            "send_hours", f"{hours!r} is not a span of hours (write 09:00-17:00)"
        ) from None
    if first == last:
        raise WindowProblem("send_hours", f"{hours!r} is empty (write 09:00-17:00)")
    if first > last:
        raise WindowProblem(
            "send_hours",
            f"{hours!r} crosses midnight, which a send window cannot: write hours within one "
            "day, such as 09:00-17:00 (or 00:00-24:00 with send_days for whole days)",
        )
    return first, last


def parse_window(days: Iterable[str], hours: str, holidays: Iterable[object]) -> SendWindow:
    """The window from the config's words (EMAIL.md); WindowProblem names the key and what
    is wrong."""
    given = list(days)
    named = [d.strip().lower()[:3] for d in given]
    wrong = [g for g, d in zip(given, named, strict=True) if d not in DAYS]
    if wrong:
        raise WindowProblem(
            "send_days", f"{', '.join(map(repr, wrong))} is not a day (write {', '.join(DAYS)})"
        )
    start, end = _hours(hours) if hours.strip() else (dt.time(0, 0), dt.time(23, 59, 59, 999999))
    free = set()
    for day in holidays:
        try:
            free.add(day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day).strip()))
        except ValueError:
            raise WindowProblem(
                "holidays", f"{str(day)!r} is not a date (write 2026-12-25)"
            ) from None
    return SendWindow(
        frozenset(DAYS.index(d) for d in named) if named else frozenset(range(7)),
        start,
        end,
        frozenset(free),
    )


def when_said(moment: dt.datetime, now: dt.datetime) -> str:
    """`today at 09:00`, `Monday 7 December at 09:00`."""
    if moment.date() == now.date():
        return f"today at {moment:%H:%M}"
    return f"{moment:%A} {moment.day} {moment:%B} at {moment:%H:%M}"
