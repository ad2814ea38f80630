"""What a nurture or campaign run did, for people (standard output; CLI.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automations.console.outgoing import count_by_kind, plan_table, preview_text
from automations.console.review import review_lines
from automations.core.vocabulary import Status
from automations.jobs.wiring import mail_capabilities

if TYPE_CHECKING:
    from automations.config import Settings
    from automations.jobs.inbox import InboxOutcome
    from automations.jobs.pipeline import RunResult
    from automations.jobs.plans.campaign import CampaignPlanned
    from automations.jobs.plans.planned import Planned

    NurtureResult = RunResult[Planned]
    CampaignResult = RunResult[CampaignPlanned]


BASELINE_SHOWN = 40


def nurture_lines(result: NurtureResult, settings: Settings, quiet: bool = False) -> list[str]:
    """What a nurture run did, for people (standard output; CLI.md)."""
    lines = _outcome_lines(result, settings, quiet)
    lines += review_lines(result.review, settings)
    if not result.options.send:
        lines += _approval_lines(result)
    if result.inbox is not None and not result.inbox.error:
        lines.append(inbox_line(result.inbox, recorded=result.options.send))
    if result.held:
        lines.append(
            f"{len(result.held)} more email(s) are due and wait for the next run "
            f"({result.held_by})."
        )
    if result.wrote:
        lines.append(f"Health written ({len(result.decisions.health)} rows).")
    return lines


def _outcome_lines(result: NurtureResult, settings: Settings, quiet: bool) -> list[str]:
    """The run's email: recorded as a baseline, planned in a dry run, none due, or gone."""
    if result.baselined:
        return _baseline_lines(result)
    if not result.options.send:
        return _dry_run_lines(result, settings)
    if not (result.report and result.report.outcomes) and not result.faults:
        verb = Status.SENT if mail_capabilities(settings).delivers else Status.WRITTEN
        return [f"Nothing is due: no email {verb}."]
    return _sent_lines(result, settings, quiet)


def _baseline_lines(result: NurtureResult) -> list[str]:
    """`--baseline`: what was recorded as handled without sending."""
    lines = [
        f"Baseline: {result.baseline_emails} due email(s) ({len(result.baseline)} item(s)) "
        "recorded as handled without sending; from now on only new ones are emailed."
    ]
    # Each item by name: what is marked handled is never sent, so the user sees all of it
    # (more than the dry run showed: what one email per partner hid behind another).
    shown = result.baseline[:BASELINE_SHOWN]
    lines += [f"  {e.action.replace('_', '-')} to {e.partner_email}: {e.key}" for e in shown]
    if len(result.baseline) > BASELINE_SHOWN:
        more = len(result.baseline) - BASELINE_SHOWN
        lines.append(f"  … and {more} more (the Log lists every one, status `skipped`)")
    return lines


def _dry_run_lines(result: NurtureResult, settings: Settings) -> list[str]:
    """A dry run: the plan table, then what a --send run would do."""
    lines = [plan_table(result.to_send), ""] if result.to_send else []
    lines.append(
        f"Dry run: {len(result.to_send)} email(s) would be {mail_capabilities(settings).verb}"
        + (f" ({count_by_kind(result.to_send)})" if result.to_send else "")
        + ". Nothing was sent or written; add --send to do it."
    )
    return lines


def _sent_lines(result: NurtureResult, settings: Settings, quiet: bool) -> list[str]:
    """A --send run: what was sent, or written to the outbox with each file named."""
    outcomes = result.report.outcomes if result.report else []
    done = [p for p, d in outcomes if d.status in (Status.SENT, Status.WRITTEN)]
    lines = [plan_table(done), ""] if done and not quiet else []
    said = f" ({count_by_kind(done)})" if done else ""
    if mail_capabilities(settings).delivers:
        return [*lines, f"Sent {len(done)} email(s){said}."]
    lines.append(
        f"Wrote {len(done)} email(s) to {settings.mail.outbox_dir}/{said}: nothing left this machine."
    )
    if not quiet:
        lines += [f"  {d.detail}" for _p, d in outcomes if d.status == Status.WRITTEN]
    return lines


def _approval_lines(result: NurtureResult) -> list[str]:
    """A dry run: what would be proposed for approval, and what already waits for it."""
    lines = []
    if result.reviewable:
        lines.append(
            f"{result.reviewable} of these wait for your approval ([mail] review): a --send "
            "run proposes them (Review tab, `partners review`, the review email) instead."
        )
    if result.waiting:
        lines.append(
            f"{len(result.waiting)} email(s) already wait for your approval (`partners review`, "
            "the Review tab or a reply to the review email decides them):"
        )
        lines += [f"  {line}" for line in result.waiting_said]
    return lines


def demo_hint(result: NurtureResult, settings: Settings) -> str:
    """`make demo`'s last line: what to open, or that nothing was due (CLI.md)."""
    written = [
        p
        for p, d in (result.report.outcomes if result.report else [])
        if d.status == Status.WRITTEN
    ]
    waiting = result.review.waiting if result.review else []
    if waiting:
        return (
            f"{len(waiting)} partner email(s) wait for your approval: `.venv/bin/partners review` "
            "shows each as the partner would read it and asks send, skip or later. "
            f"What was written is in {settings.mail.outbox_dir}/ (open a .eml with your mail program)."
        )
    if written:
        return (
            f"Open any of the {len(written)} .eml file(s) just written to "
            f"{settings.mail.outbox_dir}/ with your mail program to see it as the partner would."
        )
    return (
        "Nothing was due, so no email was written (a second `make demo` the same day writes "
        "nothing: nothing goes twice). Earlier emails are in "
        f"{settings.mail.outbox_dir}/."
    )


def campaign_lines(result: CampaignResult, settings: Settings, send: bool) -> list[str]:
    """What a campaign run found and did, for people."""
    a, campaign = result.planned.audience, result.planned.campaign
    lines = [
        f"Campaign {campaign.name} (template {campaign.template}): "
        f"{len(a.matching)} partner(s) match the audience; {len(a.already)} reached before; "
        f"{len(a.never)} never (blocked or declined); {len(a.waiting)} wait (emailed lately "
        f"or snoozed); {len(a.due)} to reach."
    ]
    lines += [f"  {email}: {why}" for email, why in a.waiting.items() if why.startswith("snoozed")]
    verb = mail_capabilities(settings).verb
    if not send:
        if result.to_send:
            lines += ["", plan_table(result.to_send), "", "One of them, as it would go:", ""]
            lines.append(preview_text(result.to_send[0]))
        lines.append(
            f"Dry run: {len(result.to_send)} email(s) would be {verb}. "
            "Nothing was sent or written; add --send to do it."
        )
    else:
        outcomes = result.report.outcomes if result.report else []
        done = [p for p, d in outcomes if d.status in (Status.SENT, Status.WRITTEN)]
        if done:
            lines += ["", plan_table(done), ""]
        lines.append(f"{len(done)} email(s) {verb}.")
    lines += review_lines(result.review, settings)
    if result.held:
        lines.append(
            f"{len(result.held)} more partner(s) wait for the next run ({result.held_by})."
        )
    return lines


def inbox_line(inbox: InboxOutcome, recorded: bool = True) -> str:
    """One line: what the inbox scan recorded, or (a dry run, `check`) what a sending run
    will record: those read nothing into the Log (CLI.md)."""
    c = inbox.counts
    found = f"{c[Status.REPLY]} reply(ies), {c[Status.BOUNCE]} bounce(s), {c[Status.UNSUBSCRIBE]} unsubscribe(s)"
    unreadable = f"; {c['unreadable']} unreadable, skipped" if c["unreadable"] else ""
    if c["away"]:
        found += f", {c['away']} automatic reply(ies) with a return day"
    if c[Status.EMAILED]:
        found += f", {c[Status.EMAILED]} email(s) of yours to partners in Sent"
    new = (
        f"{len(inbox.entries)} new in the Log"
        if recorded
        else f"{len(inbox.entries)} to record with the next sending run (nothing written now)"
    )
    return f"Inbox: {found} read; {new}; {c['ignored']} other message(s) ignored{unreadable}."
