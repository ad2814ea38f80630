"""What waits for the user's approval, and what `partners review` did (EMAIL.md, review)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from automations.core.review import about
from automations.core.vocabulary import Status

if TYPE_CHECKING:
    from automations.config import Settings
    from automations.core.review import Decision, Proposal
    from automations.jobs.review.run import ReviewRun


def proposals_table(proposals: list[Proposal]) -> str:
    """The proposals waiting for approval, one each, with the keys that decide them on a
    line of their own (never wrapped, so they can be copied)."""
    lines = []
    for n, p in enumerate(proposals, start=1):
        lines.append(
            f"{n}. {p.kind.replace('_', '-')} to {p.to_name or p.to_email} <{p.to_email}>, "
            f"proposed {p.proposed_at[:10]}, {p.status_cell}: “{p.subject}”"
        )
        lines += [f"   key: {key}" for key in p.keys]
    return "\n".join(lines)


def proposal_block(p: Proposal, number: int, count: int, as_sent: str) -> str:
    """One proposal in `partners review`: what, to whom, why, then the email as it goes."""
    rule = "─" * 72
    return (
        f"{rule}\n[{number}/{count}] {p.kind.replace('_', '-')} to {p.to_name or p.to_email}, "
        f"proposed {p.proposed_at[:10]} ({p.status_cell}): {p.why}\n{rule}\n{as_sent}\n{rule}"
    )


OLD_PROPOSAL_DAYS = 3  # CLI.md: `check` lists proposals older than a few days


def old_proposals(proposals: list[Proposal], today: dt.date) -> list[str]:
    """`partners check`: the proposals waiting longer than a few days, one line each."""
    old = [
        p
        for p in proposals
        if p.status == "waiting" and (today - p.proposed_day).days > OLD_PROPOSAL_DAYS
    ]
    if not old:
        return []
    lines = [
        f"{len(old)} email(s) have waited for your approval for more than {OLD_PROPOSAL_DAYS} "
        "days (`partners review` shows them; they lapse after [mail] review_expires_days):"
    ]
    lines += [
        f"  since {p.proposed_at[:10]}: {p.kind.replace('_', '-')} to {p.to_email}, "
        f"“{p.subject}” ({p.keys_cell})"
        for p in old
    ]
    return lines


REVIEW_PROMPT = "send, skip, later YYYY-MM-DD, next or quit? "


def recorded_line(applied: list[tuple[Proposal, Decision]]) -> str:
    """What `partners review` recorded, in one line."""
    verbs = Counter(d.verb for _, d in applied)
    if not applied:
        return "Nothing decided: every proposal still waits."
    said = ", ".join(
        f"{verbs[v]} {w}"
        for v, w in (("send", "to send"), ("skip", "skipped"), ("later", "for later"))
        if verbs[v]
    )
    return f"Recorded: {said}."


def review_lines(run: ReviewRun | None, settings: Settings) -> list[str]:
    """What review did this run: proposed, withdrawn, still waiting (EMAIL.md, review)."""
    if run is None:
        return []
    lines = []
    ways = ["`partners review`", "a reply to the review email"]
    if settings.sheet.backend == "google":
        ways.append(f"the {settings.sheet.tabs.review} tab")
    where = ", ".join(ways[:-1]) + f" or {ways[-1]}"
    if run.proposed:
        kinds = Counter(p.kind.replace("_", "-") for p in run.proposed)
        said = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        lines.append(
            f"Proposed {len(run.proposed)} email(s) for your approval ({said}); nothing of "
            f"them was sent. Decide with {where}."
        )
    withdrawn = {e.message_id: e.detail for e in run.entries if e.status == Status.WITHDRAWN}
    for ident, detail in withdrawn.items():
        p = run.proposals.get(ident)
        what = f"The {about(p)}" if p else "A proposal"
        lines.append(f"{what} was withdrawn and will not be sent: {detail}.")
    earlier = [p for p in run.waiting if p not in run.proposed and p.status != "approved"]
    if earlier:
        oldest = min(p.proposed_at[:10] for p in earlier)
        lines.append(
            f"{len(earlier)} earlier proposal(s) still wait for your decision (the oldest "
            f"since {oldest})."
        )
    return lines + approved_lines(p for p in run.waiting if p.status == "approved")


def approved_lines(approved: Iterable[Proposal]) -> list[str]:
    """What was approved and has not gone yet, and when it goes (EMAIL.md, review)."""
    campaigns = Counter(p.campaign for p in approved)
    other = campaigns.pop("", 0)
    lines = [
        f"{n} approved outreach email(s) of campaign {name} go with its next run "
        f"(`partners campaign` with its file and --send)."
        for name, n in sorted(campaigns.items())
    ]
    if other:
        lines.append(f"{other} approved email(s) go with the next sending run.")
    return lines
