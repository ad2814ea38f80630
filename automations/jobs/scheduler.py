"""`partners schedule` (a long-running scheduler on the `schedule` library) and `partners cron`.

Each job runs as its own `partners` process, so it takes the same lock as a cron
run: a run that finds the lock held exits 2 at once and is logged as skipped,
never overlapping. Runs are remembered in the journal, so a job missed
while the scheduler was down is caught up once on start.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import schedule

from automations.adapters.state import Journal
from automations.config import Settings
from automations.errors import ConfigError

LOG = logging.getLogger("partners.schedule")
JOB_ARGS = {
    "nurture": ["nurture", "--send"],
    "digest": ["digest", "--send"],
    "survey": ["survey", "--send"],
    "replies": ["replies"],
    "health": ["health"],
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WHEN = re.compile(r"^(?:(?P<day>[a-z]+)\s+)?(?P<hh>\d{1,2}):(?P<mm>\d{2})$")
Runner = Callable[[str], tuple[int, str]]  # job -> (exit code, its last message)


@dataclass(frozen=True)
class Slot:
    """When a job runs: every day, or one weekday, at HH:MM in the schedule's zone."""

    job: str
    hour: int
    minute: int
    weekday: int | None = None  # 0 = Monday

    @property
    def period(self) -> dt.timedelta:
        """How often it runs."""
        return dt.timedelta(days=7 if self.weekday is not None else 1)

    def last_due(self, now: dt.datetime) -> dt.datetime:
        """The latest scheduled moment at or before `now` (aware, in now's zone)."""
        moment = now.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if self.weekday is not None:
            moment -= dt.timedelta(days=(moment.weekday() - self.weekday) % 7)
        while moment > now:
            moment -= self.period
        return moment


def parse_slots(jobs: dict[str, str]) -> list[Slot]:
    """`{"nurture": "09:00", "digest": "monday 08:00"}` -> slots; mistakes name the job."""
    slots = []
    for job, when in jobs.items():
        if job not in JOB_ARGS:
            raise ConfigError(f"[schedule] jobs: {job!r} is not a job ({', '.join(JOB_ARGS)})")
        found = _WHEN.match(when.strip().lower())
        day = found.group("day") if found else None
        if found is None or int(found["hh"]) > 23 or int(found["mm"]) > 59:
            raise ConfigError(f'[schedule] jobs: {job} = {when!r}; write "09:00" or "monday 08:00"')
        weekday = None
        if day is not None:
            matches = [
                i for i, name in enumerate(WEEKDAYS) if name.startswith(day) and len(day) >= 3
            ]
            if len(matches) != 1:
                raise ConfigError(f"[schedule] jobs: {job} = {when!r}: {day!r} is not a weekday")
            weekday = matches[0]
        slots.append(Slot(job, int(found["hh"]), int(found["mm"]), weekday))
    return slots


def zone_name(settings: Settings) -> str:
    """The schedule's time zone: [schedule] timezone, else the top-level one, else the system's."""
    return settings.schedule.timezone or settings.timezone or ""


def cron_lines(settings: Settings, project: Path, partners: str) -> list[str]:
    """Crontab lines equivalent to [schedule]."""
    lines = ["# partner automations: add with `crontab -e`"]
    zone = zone_name(settings)
    if zone:
        lines.append(f"CRON_TZ={zone}")
    folder = shlex.quote(str(project))
    for slot in parse_slots(settings.schedule.jobs):
        day = "*" if slot.weekday is None else str((slot.weekday + 1) % 7)
        command = " ".join(JOB_ARGS[slot.job])
        lines.append(
            f"{slot.minute} {slot.hour} * * {day} cd {folder} && {partners} {command} "
            f">> partners.log 2>&1"
        )
        lines += outside_window(settings, slot)
    return lines


def outside_window(settings: Settings, slot: Slot) -> list[str]:
    """A comment when a job that emails partners is scheduled outside `[mail] send_hours`
    or `send_days`: its partner emails would wait for the next run inside them."""
    window = settings.mail.window
    if slot.job in ("digest", "health", "replies") or window.always:
        return []
    at = dt.time(slot.hour, slot.minute)
    days = [slot.weekday] if slot.weekday is not None else list(range(7))
    if window.start <= at < window.end and any(d in window.days for d in days):
        return []
    return [
        f"# {slot.job} at {at:%H:%M} runs outside [mail] send_days/send_hours: its partner "
        "emails wait for a run inside them (owners' mail goes)"
    ]


class History:
    """When each job last ran, kept in the journal (state/journal.sqlite3)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dt.datetime]:
        """job -> last run (aware)."""
        journal = Journal(self.path)
        try:
            return journal.job_runs()
        finally:
            journal.close()

    def record(self, job: str, when: dt.datetime) -> None:
        """Remember a run."""
        journal = Journal(self.path)
        try:
            journal.record_job_run(job, when)
        finally:
            journal.close()


def subprocess_runner(config: Path) -> Runner:
    """Run a job as `python -m automations ...`: its own process, its own lock."""

    def run(job: str) -> tuple[int, str]:
        argv = [sys.executable, "-m", "automations", *JOB_ARGS[job], "--config", str(config), "-q"]
        done = subprocess.run(argv, check=False, capture_output=True, text=True)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        lines = [line for line in done.stderr.splitlines() if line.startswith("partners:")]
        return done.returncode, lines[-1].removeprefix("partners: ") if lines else ""

    return run

    return run


class Scheduler:
    """The `schedule` library driven by our loop: catch-up, logging, clean stop."""

    def __init__(
        self,
        slots: list[Slot],
        zone: str,
        history: History,
        runner: Runner,
        now: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.slots = slots
        self.zone = ZoneInfo(zone) if zone else None
        self.history = history
        self.runner = runner
        self.now = now or (lambda: dt.datetime.now(self.zone).astimezone(self.zone))
        self.sleep = sleep
        self.stopping = False
        self.jobs = schedule.Scheduler()
        for slot in slots:
            every = self.jobs.every()
            unit = every.day if slot.weekday is None else getattr(every, WEEKDAYS[slot.weekday])
            unit.at(f"{slot.hour:02d}:{slot.minute:02d}", zone or None).do(self._run, slot.job)

    def _run(self, job: str) -> None:
        started = self.now()
        try:
            code, message = self.runner(job)
        except Exception as exc:  # a failing job is logged; the others go on
            LOG.error("%s failed: %s", job, exc)
            return
        if code == 2 and "another partners run" in message:
            LOG.warning("%s skipped: %s", job, message)
            return  # not a run: the next time (or a catch-up) does it
        if code == 2:
            LOG.error("%s could not run: %s", job, message or "exit 2")
        else:
            LOG.info("%s done: exit %d%s", job, code, f" ({message})" if message else "")
        self.history.record(job, started)

    def catch_up(self) -> None:
        """Run once each job whose last scheduled time passed while nothing ran it."""
        last = self.history.load()
        now = self.now()
        for slot in self.slots:
            due = slot.last_due(now)
            ran = last.get(slot.job)
            if ran is not None and ran < due:
                LOG.info(
                    "%s: missed at %s, running now", slot.job, due.isoformat(timespec="minutes")
                )
                self._run(slot.job)

    def stop(self, signum: int = 0, frame: FrameType | None = None) -> None:
        """Ask the loop to end (from a signal handler)."""
        self.stopping = True

    def run_forever(self, step: float = 0.2) -> None:
        """Catch up, then run jobs at their times until stopped."""
        self.catch_up()
        while not self.stopping:
            self.jobs.run_pending()
            idle = self.jobs.idle_seconds
            self.sleep(min(step, max(0.0, idle if idle is not None else step)) or 0.05)


def run_schedule(settings: Settings, config: Path, runner: Runner | None = None) -> None:
    """`partners schedule`: run until SIGINT/SIGTERM."""
    slots = parse_slots(settings.schedule.jobs)
    history = History(settings.resolve("state") / "journal.sqlite3")
    scheduler = Scheduler(slots, zone_name(settings), history, runner or subprocess_runner(config))
    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, scheduler.stop)
    LOG.info(
        "scheduler started: %s",
        ", ".join(
            f"{s.job} {'daily' if s.weekday is None else WEEKDAYS[s.weekday]} {s.hour:02d}:{s.minute:02d}"
            for s in slots
        ),
    )
    try:
        scheduler.run_forever()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        LOG.info("scheduler stopped")
