"""When partner mail may go (EMAIL.md, "Copies, windows and alerts"): `[mail] send_days`,
`send_hours` and `holidays`, in the configured time zone. Owners' mail is never held."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

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


def parse_window(days: Iterable[str], hours: str, holidays: Iterable[str]) -> SendWindow:
    """The window from the config's words; ValueError names what is wrong."""
    given = list(days)
    named = [d.strip().lower()[:3] for d in given]
    wrong = [g for g, d in zip(given, named, strict=True) if d not in DAYS]
    if wrong:
        raise ValueError(f"{', '.join(map(repr, wrong))} is not a day (write {', '.join(DAYS)})")
    start, end = dt.time(0, 0), dt.time(23, 59, 59, 999999)
    if hours.strip():
        try:
            first, last = (dt.time.fromisoformat(t.strip()) for t in hours.split("-"))
        except ValueError:
            raise ValueError(f"{hours!r} is not a span of hours (write 09:00-17:00)") from None
        if first >= last:
            raise ValueError(f"{hours!r} ends before it starts (write 09:00-17:00)")
        start, end = first, last
    try:
        free = frozenset(dt.date.fromisoformat(d.strip()) for d in holidays)
    except ValueError:
        raise ValueError("holidays are dates written 2026-12-25") from None
    return SendWindow(
        frozenset(DAYS.index(d) for d in named) if named else frozenset(range(7)),
        start,
        end,
        free,
    )


def when_said(moment: dt.datetime, now: dt.datetime) -> str:
    """`today at 09:00`, `Monday 7 December at 09:00`."""
    if moment.date() == now.date():
        return f"today at {moment:%H:%M}"
    return f"{moment:%A} {moment.day} {moment:%B} at {moment:%H:%M}"
