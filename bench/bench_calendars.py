"""Benchmark: every real calendar of the icalendar and recurring-ical-events test data
through the calendar reader (FIELD-NOTES.md, "Calendars").

Usage: python bench/bench_calendars.py [FOLDER ...] (default: the corpora unpacked under
/tmp/corpora). Prints, per calendar that is not clean, what the reader said, then how many
read cleanly, how many were read with broken events left out (named in a warning), how many
could not be read at all (a fault naming the feed), and how many crashed (must be 0).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import warnings
from pathlib import Path

from automations.adapters.calendar import read_feed
from automations.errors import CalendarError

FOLDERS = [
    "/tmp/corpora/collective+icalendar",
    "/tmp/corpora/niccokunzmann+python-recurring-ical-events",
]
START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def main(folders: list[str]) -> int:
    """Read every .ics under `folders` (the fuzzing corpus aside: not real calendars)."""
    files = sorted(p for f in folders for p in Path(f).rglob("*.ics") if "fuzzing" not in p.parts)
    counts = {"clean": 0, "events left out": 0, "unreadable": 0, "crashed": 0}
    began = time.perf_counter()
    for path in files:
        try:
            feed = read_feed(str(path), Path("/"), START, END, 5.0)
        except CalendarError as exc:
            counts["unreadable"] += 1
            print(f"unreadable  {path.name}: {exc}")
            continue
        except Exception as exc:  # what the bench is for: none may get here
            counts["crashed"] += 1
            print(f"CRASHED     {path.name}: {type(exc).__name__}: {exc}")
            continue
        if feed.warning:
            counts["events left out"] += 1
            print(f"left out    {path.name}: {feed.warning}")
        else:
            counts["clean"] += 1
    took = time.perf_counter() - began
    print(
        f"{len(files)} calendars in {took:.1f} s: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )
    return 1 if counts["crashed"] else 0


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # the libraries warn about guessed time zones
    sys.exit(main(sys.argv[1:] or FOLDERS))
