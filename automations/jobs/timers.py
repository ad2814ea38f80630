"""`partners cron --for cron|systemd|launchd|windows`: what runs `[schedule]` on each platform.

Every form runs the same jobs (scheduler.JOB_ARGS) at the same times with the project's
absolute paths. systemd and cron take the configured zone themselves; launchd and the
Windows Task Scheduler only know the machine's zone, so their output says which zone the
times are in. A run missed while the machine slept is harmless either way: the next run
decides from the sheet and the Log, so what was due goes then, and nothing twice.
"""

from __future__ import annotations

import plistlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from automations.config import Settings
from automations.jobs.scheduler import (
    JOB_ARGS,
    WEEKDAYS,
    Slot,
    cron_lines,
    outside_window,
    parse_slots,
    zone_name,
)


@dataclass(frozen=True)
class Target:
    """Where the jobs run: the project folder, the `partners` program, the config file."""

    project: Path
    partners: tuple[str, ...]  # the program, or python -m automations
    config: Path

    @property
    def slug(self) -> str:
        """A name for this project's units, tasks and agents (two projects never clash)."""
        return re.sub(r"[^A-Za-z0-9]+", "-", self.project.name).strip("-").lower() or "project"

    def argv(self, slot: Slot) -> list[str]:
        """The job's command line, with the config given absolutely."""
        return [*self.partners, *JOB_ARGS[slot.job], "--config", str(self.config)]


def _at(slot: Slot) -> str:
    day = "daily" if slot.weekday is None else WEEKDAYS[slot.weekday]
    return f"{day} {slot.hour:02d}:{slot.minute:02d}"


def _zone_note(settings: Settings, who: str) -> list[str]:
    zone = zone_name(settings)
    if not zone:
        return []
    return [
        f"{who} reads these times in this machine's time zone; they are [schedule] times "
        f"in {zone}: keep the machine on {zone} or shift them."
    ]


def systemd_units(settings: Settings, target: Target) -> list[str]:
    """A user service and timer per job, written by a shell snippet (CLI.md, cron)."""
    zone = zone_name(settings)
    folder = "~/.config/systemd/user"
    lines = [
        "# partner automations: systemd user units, one service and one timer per job.",
        "# Run this in a shell on this machine; Persistent=true runs a job missed while it slept.",
        f"mkdir -p {folder}",
    ]
    timers = []
    for slot in parse_slots(settings.schedule.jobs):
        name = f"partners-{target.slug}-{slot.job}"
        log = target.project / "partners.log"
        day = "" if slot.weekday is None else f"{WEEKDAYS[slot.weekday][:3].title()} "
        when = f"{day}*-*-* {slot.hour:02d}:{slot.minute:02d}:00{' ' + zone if zone else ''}"
        command = " ".join(_systemd_quote(a) for a in target.argv(slot))
        lines += [
            f"cat > {folder}/{name}.service <<'UNIT'",
            "[Unit]",
            f"Description=partner automations: {' '.join(JOB_ARGS[slot.job])}",
            "",
            "[Service]",
            "Type=oneshot",
            f"WorkingDirectory={str(target.project).replace('%', '%%')}",
            f"ExecStart={command}",
            f"StandardOutput=append:{str(log).replace('%', '%%')}",
            f"StandardError=append:{str(log).replace('%', '%%')}",
            "UNIT",
            f"cat > {folder}/{name}.timer <<'UNIT'",
            "[Unit]",
            f"Description=partner automations: {slot.job} {_at(slot)}",
            "",
            "[Timer]",
            f"OnCalendar={when}",
            "Persistent=true",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "UNIT",
            *outside_window(settings, slot),
        ]
        timers.append(f"{name}.timer")
    lines += [
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {' '.join(timers)}",
        "# and once, so the timers run while you are logged out: loginctl enable-linger",
    ]
    return lines


def _systemd_quote(arg: str) -> str:
    # systemd reads % as a specifier (%h, %u): a literal one is written %%.
    arg = arg.replace("%", "%%")
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def launchd_agents(settings: Settings, target: Target) -> list[str]:
    """A launch agent plist per job, written by a shell snippet (CLI.md, cron)."""
    folder = "~/Library/LaunchAgents"
    lines = [
        "# partner automations: launchd agents, one per job. Paste this into Terminal.",
        "# A job missed while the Mac slept runs when it wakes.",
        *(f"# {note}" for note in _zone_note(settings, "launchd")),
        f"mkdir -p {folder}",
    ]
    for slot in parse_slots(settings.schedule.jobs):
        label = f"local.partners.{target.slug}.{slot.job}"
        interval: dict[str, int] = {"Hour": slot.hour, "Minute": slot.minute}
        if slot.weekday is not None:
            interval["Weekday"] = (slot.weekday + 1) % 7  # launchd: 0 is Sunday
        log = str(target.project / "partners.log")
        agent = {
            "Label": label,
            "ProgramArguments": target.argv(slot),
            "WorkingDirectory": str(target.project),
            "StartCalendarInterval": interval,
            "StandardOutPath": log,
            "StandardErrorPath": log,
        }
        plist = plistlib.dumps(agent, sort_keys=False).decode("utf-8")
        path = f"{folder}/{label}.plist"
        lines += [f"cat > {path} <<'PLIST'", *plist.splitlines(), "PLIST"]
        lines += outside_window(settings, slot)
        lines.append(f"launchctl load -w {path}")
    return lines


def windows_tasks(settings: Settings, target: Target) -> list[str]:
    """A `schtasks /Create` command per job, for a Command Prompt (CLI.md, cron)."""
    lines = [
        "REM partner automations: Task Scheduler tasks, one per job. Run these in a Command Prompt.",
        "REM A run missed while the laptop slept is caught up by the next one; nothing goes twice.",
        *(f"REM {note}" for note in _zone_note(settings, "Task Scheduler")),
    ]
    for slot in parse_slots(settings.schedule.jobs):
        argv = target.argv(slot)
        inner = " ".join(f'\\"{a}\\"' if " " in a or "\\" in a or "/" in a else a for a in argv)
        run = f'cmd /c cd /d \\"{target.project}\\" && {inner} >> partners.log 2>&1'
        when = (
            "/SC DAILY"
            if slot.weekday is None
            else f"/SC WEEKLY /D {WEEKDAYS[slot.weekday][:3].upper()}"
        )
        lines.append(
            f'schtasks /Create /F /TN "partners {target.slug} {slot.job}" {when} '
            f'/ST {slot.hour:02d}:{slot.minute:02d} /TR "{run}"'
        )
        lines += [f"REM {note.removeprefix('# ')}" for note in outside_window(settings, slot)]
    return lines


def schedule_text(settings: Settings, target: Target, platform: str) -> list[str]:
    """The lines `partners cron --for PLATFORM` prints (CLI.md)."""
    if platform == "systemd":
        return systemd_units(settings, target)
    if platform == "launchd":
        return launchd_agents(settings, target)
    if platform == "windows":
        return windows_tasks(settings, target)
    command = shlex.join(target.partners)
    default = target.project / "config" / "partners.toml"
    if target.config != default:
        command += f" --config {shlex.quote(str(target.config))}"
    return cron_lines(settings, target.project, command)
