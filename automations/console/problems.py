"""The problems and warnings a person must act on, for standard error (CLI.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automations.core.vocabulary import Status

if TYPE_CHECKING:
    from automations.core.tables import Problem
    from automations.jobs.pipeline import RunResult
    from automations.jobs.plans.planned import Planned
    from automations.jobs.sending import DeliveryReport

    NurtureResult = RunResult[Planned]


def problem_line(problem: Problem) -> str:
    """One problem as the user reads it, with what was done about it; `partners:` first, as
    on every line a person must act on (CLI.md: cron users filter on it)."""
    if problem.kept:
        return f"partners: {problem} (the partner is in Health as `fix row`: no email until fixed)"
    if problem.severity == "error" and problem.row is not None:
        return f"partners: {problem} (row skipped)"
    return f"partners: {problem}"


def nurture_warnings(result: NurtureResult) -> list[str]:
    """What needs a person's attention (standard error)."""
    lines = [*result.sign_in_notes, *result.warnings]
    if result.inbox is not None:
        lines += result.inbox.warnings
    for e in result.recovered:
        lines.append(f"uncertain: {e.key} ({e.detail})")
    return lines + delivery_warnings(result.faults, result.report, result.write_error)


def delivery_warnings(
    faults: list[str], delivery: DeliveryReport | None, write_error: str
) -> list[str]:
    """Template faults, failed and uncertain sends, a stop, a sheet that was not written."""
    lines = list(faults)
    if delivery:
        for p, d in delivery.outcomes:
            if d.status == Status.FAILED:
                lines.append(f"failed: {p.draft.kind} to {p.draft.to_email}: {d.detail}")
            elif d.status == Status.UNCERTAIN:
                keys = ", ".join(p.draft.keys)
                lines.append(
                    f"uncertain: {p.draft.kind} to {p.draft.to_email} ({keys}): {d.detail}; "
                    "settle it with `partners resolve KEY --sent` or `--retry`"
                )
        for p in delivery.refused_again:
            elsewhere = delivery.foreign.intersection(p.draft.keys)
            lines.append(
                f"not sent again: {p.draft.kind} to {p.draft.to_email}: the journal already "
                "records it as sent, pending or uncertain"
                + (
                    " for another sheet this project used before; `partners carry-over` "
                    "brings that history into this sheet's Log"
                    if elsewhere
                    else ""
                )
            )
        lines += delivery.unbuilt
        if delivery.fatal:
            lines.append(f"stopped: {delivery.fatal}; the rest stays due for the next run")
    if write_error:
        lines.append(write_error)
        if delivery:
            lines += _sent_before_write_error(delivery)
    return lines


def _sent_before_write_error(delivery: DeliveryReport) -> list[str]:
    """What left before the sheet could not be written: the user must know it went."""
    gone = [
        (p, d)
        for p, d in delivery.outcomes
        if d.status in (Status.SENT, Status.WRITTEN, Status.UNCERTAIN)
    ]
    if not gone:
        return ["nothing was sent before this"]
    lines = [
        f"{len(gone)} email(s) went out before this and are recorded in the journal "
        "(state/journal.sqlite3); they go to the Log on the next run that can write, and are "
        "never sent again:"
    ]
    lines += [f"  {d.status}: {p.draft.kind} to {p.draft.to_email}" for p, d in gone]
    return lines
