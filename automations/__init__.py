"""Partner automations: the engine behind a referral-partner sheet.

The public Python API (docs/api.md; ARCHITECTURE.md, "The second step"): `load` reads a
project as a run would, `decide` says what each partner is due today, `plan` gives the
emails a sending command would send now; none of them sends or records anything (they read,
as a dry run does).
The imports are inside the functions: `partners --help` imports this module first and
stays fast (CLI.md), and the package stays outside the layers it calls into.
"""

from __future__ import annotations

# Not `typing.TYPE_CHECKING`: `partners --help` would import typing for nothing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from automations.config import Settings
    from automations.core.engine.decisions import Decisions
    from automations.core.tables import Problem, Tables
    from automations.jobs.pipeline import RunResult
    from automations.jobs.plans.planned import Planned

__version__ = "0.1.0"
__all__ = ["Project", "__version__", "decide", "load", "plan"]


class Project:
    """A project as a run reads it: its settings, the day it decides for, the sheet's tables
    (the journal's Log rows merged in, what the inbox and calendars add decided on)."""

    def __init__(self, settings: Settings, today: dt.date, tables: Tables) -> None:
        self.settings = settings
        self.today = today
        self.tables = tables

    @property
    def problems(self) -> list[Problem]:
        """The row and tab problems `partners check` prints (SHEET.md)."""
        return self.tables.problems


def load(config: str | Path | None = None, today: dt.date | str | None = None) -> Project:
    """The config and the sheet as a dry run sees them (CLI.md); `config` as `--config`
    (default $PARTNERS_CONFIG, else config/partners.toml), `today` as `--today` (a date, or
    one written 2026-12-01)."""
    from automations.commands.common import clock_of
    from automations.config import config_path_from, load_settings
    from automations.jobs.session import session

    settings = load_settings(config_path_from(None if config is None else str(config)))
    now = clock_of(settings)()
    day = _day(today) if today is not None else now.date()
    with session(settings, day, now, writing=False) as s:
        return Project(settings, day, s.tables)


def _day(today: dt.date | str) -> dt.date:
    """`today` as a date, as `--today` reads it; anything else is a UsageError naming it."""
    import datetime as dt

    from automations.commands.common import TODAY_RANGE
    from automations.errors import UsageError

    if isinstance(today, dt.date):
        day = today.date() if isinstance(today, dt.datetime) else today
    else:
        try:
            day = dt.date.fromisoformat(str(today))
        except ValueError:
            raise UsageError(
                f"today={today!r} is not a day: give a datetime.date or one written 2026-12-01"
            ) from None
    first, last = TODAY_RANGE
    if not first <= day <= last:
        raise UsageError(
            f"today={day} is outside the days a run can decide for ({first} to {last})"
        )
    return day


def decide(project: Project) -> Decisions:
    """The engine's decisions for the project's day (RULES.md): `health`, one row per partner
    with its `action`, `reason` and `next_due`; `due`, the emails due now."""
    from automations.core.engine.decide import decide as decided
    from automations.jobs.wiring import decide_options

    settings = project.settings
    return decided(project.tables, project.today, settings.rules, decide_options(settings))


def plan(project: Project, command: str = "nurture") -> RunResult[Planned]:
    """What `partners COMMAND` would do now, as its dry run (CLI.md): `to_send`, the emails
    (recipient, subject, text), `held`, `faults`; it reads the sheet again, as a run does.
    `command`: nurture, survey, digest, statement, or a campaign file's path."""
    from pathlib import Path

    from automations.commands.common import clock_of
    from automations.errors import UsageError
    from automations.jobs import pipeline
    from automations.jobs.plans import PLANS

    if command in PLANS:
        chosen = PLANS[command]
    elif command.endswith(".toml"):
        from automations.jobs.plans.campaign import load_campaign, plan_of

        chosen = plan_of(load_campaign(Path(command)), command)
    else:
        raise UsageError(
            f"no command {command!r} to plan: one of {', '.join(PLANS)}, or a campaign file"
        )
    settings = project.settings
    return pipeline.run(settings, project.today, clock_of(settings), chosen, pipeline.RunOptions())
