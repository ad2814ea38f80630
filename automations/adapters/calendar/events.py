"""A feed's bytes as event occurrences (icalendar + recurring-ical-events), one bad event
or series left out and named instead of the whole feed (FIELD-NOTES.md, "Calendars")."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import icalendar
import recurring_ical_events

from automations.adapters.calendar.marks import MARK, is_ours
from automations.core.touches import Event

_SUBDAILY = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600}
_DAY = 86400
_NO_UID = "partners-no-uid-"


class NotCalendar(ValueError):
    """Bytes with no calendar in them at all (an HTML sign-in page, say)."""


class _Tolerant(recurring_ical_events.CalendarQuery):
    """Any error in a series leaves that series out, not the feed (the libraries raise
    assorted errors on a broken event: the ones they name and their own bugs alike)."""

    suppressed_errors = [Exception]  # noqa: RUF012 (the library's own class attribute)


@dataclass
class Occurrences:
    """What one feed holds in the window, and the events that could not be read."""

    events: list[Event] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # as the user knows them: the title


def occurrences(data: bytes, start: dt.datetime, end: dt.datetime) -> Occurrences:
    """Every occurrence between `start` and `end` of the feed's events, recurrences
    expanded, each series more often than daily read as at most once a day. Raises
    ValueError when the bytes hold no calendar at all."""
    found = icalendar.Calendar.from_ical(data, multiple=True)
    calendars: list[Any] = [c for c in found if c.name == "VCALENDAR"]
    if loose := [c for c in found if c.name != "VCALENDAR"]:  # bare events: one calendar
        calendars.append(icalendar.Calendar())
        calendars[-1].subcomponents = loose
    if not found:
        raise NotCalendar("BEGIN:VCALENDAR is not in it")
    out = Occurrences()
    for calendar in calendars:
        _drop_startless(calendar)
        _drop_ours(calendar)
        for n, component in enumerate(calendar.walk("VEVENT")):
            if "UID" not in component:  # the library would name it by its place in memory
                component.add("UID", f"{_NO_UID}{n}")
            _at_most_daily(component)
        _expand(calendar, start, end, out)
    return out


def _expand(calendar: Any, start: dt.datetime, end: dt.datetime, out: Occurrences) -> None:
    zone = start.tzinfo or dt.UTC
    titles = _titles(calendar)
    query = recurring_ical_events.of(calendar, skip_bad_series=True, calendar_query=_Tolerant)
    kept = set()
    for series in query.series:
        kept.add(series.uid)
        try:
            found = [_event(o.as_component(False), zone) for o in series.between(start, end)]
        except Exception:  # a broken series costs only itself, whatever the library raises
            out.broken.append(titles.get(series.uid, "an untitled event"))
            continue
        out.events += found
    # The series the library left out while collecting them.
    out.broken += [title for uid, title in titles.items() if uid not in kept]


def _titles(calendar: Any) -> dict[str, str]:
    """Each event's UID -> how the user knows it: its title, or its UID when it has none."""
    titles: dict[str, str] = {}
    for component in calendar.walk("VEVENT"):
        uid = recurring_ical_events.EventAdapter(component).uid
        summary = " ".join(str(component.get("SUMMARY", "")).split())[:80]
        if uid not in titles or (summary and not titles[uid].startswith('"')):
            titles[uid] = f'"{summary}"' if summary else _untitled(component)
    return titles


def _untitled(component: Any) -> str:
    uid = _uid(component)
    return f"an untitled event (UID {uid[:80]})" if uid else "an untitled event"


def _uid(component: Any) -> str:
    uid = str(component.get("UID", ""))
    return "" if uid.startswith(_NO_UID) else uid


def _drop_startless(component: Any) -> None:
    """Events without DTSTART are left out before anything reads the calendar: the
    libraries stop at the first one (RFC 5545 allows them only in iTIP messages)."""
    component.subcomponents = [
        c for c in component.subcomponents if not (c.name == "VEVENT" and "DTSTART" not in c)
    ]
    for child in component.subcomponents:
        _drop_startless(child)


def _drop_ours(component: Any) -> None:
    """The toolkit's own reminders (`partners calendar`) imported into a feed are left out:
    a reminder to call a partner is not a call with them (CLI.md)."""
    component.subcomponents = [
        c
        for c in component.subcomponents
        if not (c.name == "VEVENT" and is_ours(str(c.get("UID", "")), MARK in c))
    ]
    for child in component.subcomponents:
        _drop_ours(child)


def _at_most_daily(component: Any) -> None:
    """A recurrence more often than daily (FREQ=MINUTELY, BYHOUR=9,10,…) read as daily:
    a touch is a day, and a year of minutes is half a million occurrences."""
    rules = component.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        try:
            _daily_rule(rule)
        except (TypeError, ValueError, AttributeError, IndexError):
            continue  # a rule that cannot be read: the series is left out and named later


def _daily_rule(rule: Any) -> None:
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    per_day = 1
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        values = rule.get(key)
        if values and (freq in _SUBDAILY or len(values) > 1):
            per_day *= len(values)
            rule[key] = [min(int(v) for v in values)]
    if freq not in _SUBDAILY and per_day > 1 and rule.get("COUNT"):
        rule["COUNT"] = [max(1, math.ceil(int(rule["COUNT"][0]) / per_day))]
    if freq not in _SUBDAILY:
        return
    step = _SUBDAILY[freq] * int((rule.get("INTERVAL") or [1])[0])
    days = max(1, step // _DAY)
    rule["FREQ"] = ["DAILY"]
    rule["INTERVAL"] = [days]
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        rule.pop(key, None)
    if rule.get("COUNT"):
        span = int(rule["COUNT"][0]) * step
        rule["COUNT"] = [max(1, math.ceil(span / (days * _DAY)))]


def _address(value: Any) -> str:
    text = str(value or "").strip()
    return text[7:].lower() if text.lower().startswith("mailto:") else text.lower()


def _moment(value: Any, zone: dt.tzinfo) -> dt.datetime:
    """A DTSTART as an aware datetime (an all-day event starts at midnight in `zone`)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), zone)
    raise ValueError("DTSTART is not a date")


def _event(component: Any, zone: dt.tzinfo) -> Event:
    attendees = component.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    return Event(
        uid=_uid(component),
        start=_moment(component.decoded("DTSTART"), zone),
        summary=str(component.get("SUMMARY", "")),
        attendees={
            _address(a): str(getattr(a, "params", {}).get("PARTSTAT", "NEEDS-ACTION")).upper()
            for a in attendees
        },
        organizer=_address(component.get("ORGANIZER")),
        cancelled=str(component.get("STATUS", "")).upper() == "CANCELLED",
    )
