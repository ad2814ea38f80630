"""What a plan is (ARCHITECTURE.md, "The second step"): a function from the run's context
to the drafts of one command and the proposals it settles; the send pipeline does the rest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from automations.config import Settings
from automations.core.engine.decisions import Decisions
from automations.core.mail.draft import Draft
from automations.core.review import Proposal
from automations.core.tables import Tables
from automations.jobs.session import Session


@dataclass(frozen=True)
class PlanContext:
    """What a plan reads: the settings, the run's session (sheet, journal) and its day."""

    settings: Settings
    session: Session
    today: dt.date
    now: dt.datetime

    @property
    def tables(self) -> Tables:
        """The sheet as this run read it, the journal's rows merged in."""
        return self.session.tables


@dataclass
class Planned:
    """What a plan hands the pipeline."""

    decisions: Decisions  # Health, as this command decided it
    drafts: list[Draft]
    scope: Callable[[Proposal], bool]  # the proposals this command settles
    job: str  # how its Log `run` row names it
    limit: int | None = None  # a bound of the plan's own, besides `--limit`
    writes_health: bool = True
    faults: list[str] = field(default_factory=list)  # held back: the exit code says 1
    warnings: list[str] = field(default_factory=list)  # said; the exit code stays


Plan = Callable[[PlanContext], Planned]


def kinds_scope(kinds: Iterable[str]) -> Callable[[Proposal], bool]:
    """The proposals of these kinds (every kind when none), never a campaign's: a
    campaign's proposals are settled by its own run (EMAIL.md, review)."""
    wanted = set(kinds)

    def mine(p: Proposal) -> bool:
        if p.campaign:
            return False
        return not wanted or p.kind in wanted

    return mine
