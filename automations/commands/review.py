"""`partners review`: the proposals waiting for approval, decided (EMAIL.md, review)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Callable

from automations import console as report
from automations.commands.common import EXIT_OK, clock_of, finish, progress_of, today_of
from automations.config import Settings
from automations.core.review import Decision, Proposal
from automations.errors import UsageError
from automations.jobs import pipeline
from automations.jobs.plans import PLANS
from automations.jobs.review import command as approval


def review(args: argparse.Namespace, settings: Settings) -> int:
    today = today_of(args, settings)
    chosen: dict[str, Decision] = {}
    if args.all:
        chosen.update((p.ident, Decision("send")) for p in approval.waiting(settings))
    chosen.update((k, Decision("send")) for k in args.send)
    chosen.update((k, Decision("skip")) for k in args.skip)
    for key, day in args.later:
        chosen[key] = Decision("later", _later_day(day, today, f"partners review --later {key}"))
    interrupted = False
    if not chosen:
        proposals = approval.waiting(settings)
        if not proposals:
            print("Nothing waits for your approval.")
            return EXIT_OK
        if not sys.stdin.isatty():
            print(report.proposals_table(proposals))
            print(
                "Decide with `partners review` in a terminal, or --send KEY / --skip KEY / --later KEY DATE."
            )
            return EXIT_OK

        def keep(pid: str, decision: Decision) -> None:
            approval.keep(settings, pid, decision, clock_of(settings))

        chosen, interrupted = _ask(proposals, today, keep)
    recorded = approval.record(settings, chosen, clock_of(settings))
    print(report.recorded_line(recorded.applied))
    if recorded.deferred:
        print(
            "Another partners run is working on this sheet: your decisions are kept and "
            "apply when it ends (approved emails go with the next sending run)."
        )
        return EXIT_OK
    if interrupted:
        print("Interrupted: your decisions are kept; approved emails go with the next run.")
        return EXIT_OK
    if not recorded.applied:
        return EXIT_OK
    options = pipeline.RunOptions(send=True, approved_only=True)
    quiet = bool(getattr(args, "quiet", False))
    with contextlib.closing(progress_of(quiet)) as progress:
        result = pipeline.run(
            settings, today, clock_of(settings), PLANS["nurture"], options, progress
        )
    return finish(result, settings, quiet)


def _later_day(text: str, today: dt.date, what: str) -> dt.date:
    """A `later` day: a date after today (a past day would only show the proposal again)."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{what} {text!r}: write the date as YYYY-MM-DD") from None
    if day <= today:
        raise UsageError(
            f"{what} {text!r}: that day is not after today ({today}); give a later one"
        )
    return day


def _ask(
    proposals: list[Proposal], today: dt.date, keep: Callable[[str, Decision], None]
) -> tuple[dict[str, Decision], bool]:
    """Each proposal shown as it would be sent; the user's answer for it, kept at once
    (EMAIL.md, review); True when the user stopped with Ctrl-C."""
    chosen: dict[str, Decision] = {}
    try:
        for n, p in enumerate(proposals, start=1):
            print(report.proposal_block(p, n, len(proposals), approval.shown(p)))
            decision = _answer(today)
            if isinstance(decision, str):  # quit
                break
            if decision is not None:
                keep(p.pid, decision)
                chosen[p.ident] = decision
    except (KeyboardInterrupt, EOFError) as stop:
        print()
        return chosen, isinstance(stop, KeyboardInterrupt)
    return chosen, False


def _answer(today: dt.date) -> Decision | str | None:
    """One answer at the prompt: a decision, None for next, "quit"; asked again until clear.
    No one-letter `s`: it could mean send or skip."""
    while True:
        answer = input(report.REVIEW_PROMPT).strip().lower()
        verb, _, rest = answer.partition(" ")
        if verb in ("send", "yes", "y"):
            return Decision("send")
        if verb in ("skip", "k"):
            return Decision("skip")
        if verb in ("later", "l"):
            try:
                return Decision("later", _later_day(rest, today, "later"))
            except UsageError as exc:
                print(f"{exc}. For example: later {today + dt.timedelta(days=7)}")
                continue
        if verb in ("quit", "q"):
            return "quit"
        if verb in ("next", "n", ""):
            return None
        print(f"Answer one of: {report.REVIEW_PROMPT}")
