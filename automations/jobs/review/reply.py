"""A reply to the review email (EMAIL.md, review by reply), which the inbox scan applies
only when every line of the owner's own words is understood, and the answer owed to one
that applied nothing."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage

from automations.adapters.state import Entry, Journal
from automations.core.mail.draft import Draft
from automations.core.mail.letterhead import Letterhead
from automations.core.optout import own_lines
from automations.core.replies import (
    MESSAGE_IDS,
    addresses,
    header_text,
    is_automatic,
    message_id_of,
    sent_at,
)
from automations.core.review import OPEN, Proposal, answer_draft
from automations.core.review_reply import VERBS, ReplyDecisions, parse_reply
from automations.core.vocabulary import Kind, Status
from automations.jobs.review.decisions import decide
from automations.jobs.review.proposing import REVIEW_ID
from automations.jobs.sending import stamp

EXAMPLES = "send all, send 1 3, send 1-3, skip 2, later 4 2027-01-10"
NOT_APPLIED = "not applied"  # a reply not understood: the owner is told in the next run


def _review_answered(msg: EmailMessage, proposals: Sequence[Proposal]) -> str:
    """The review email this message answers, by the random Message-ID only the journal
    knows (In-Reply-To or References); "" when it names none."""
    # Ids made from the run id before the token (a reader of the Log could make them up).
    asked = {p.review_id for p in proposals if p.review_id.startswith(f"<{REVIEW_ID}.")}
    refs = MESSAGE_IDS.findall(" ".join(header_text(msg, h) for h in ("In-Reply-To", "References")))
    return next((r for r in refs if r in asked), "")


def apply_reply(
    raw: bytes,
    journal: Journal,
    now: dt.datetime,
    run_id: str,
    names: Sequence[str] = (),
) -> list[Entry] | None:
    """A reply to a review email, applied only when every line of the owner's own words is
    understood (its Log rows: one `review` row saying what was done or why nothing was, and
    the `skipped` rows); None when the message is not one (EMAIL.md, review by reply)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    sender = next(iter(addresses(msg, "From")), "")
    proposals = journal.proposals()
    owners = {p.owner for p in proposals if p.review_id}
    answered = _review_answered(msg, proposals)
    lines = own_lines(msg)
    if not answered and (sender not in owners or not any(v in _words(lines) for v in VERBS)):
        return None  # an owner's ordinary email, or anyone else's: not ours to read
    ident = message_id_of(msg) or f"review-reply:{stamp(now)}"
    when = min(sent_at(msg) or now, now)

    def row(detail: str, owner: str = "") -> Entry:
        subject = header_text(msg, "Subject")[:200]
        return Entry(
            stamp(when), run_id, Kind.REVIEW, owner, ident, "", subject, "", Status.REPLY, detail
        )

    if not answered:
        return [
            row(f"ignored: from {sender}, but not a reply to a review email (it does not name one)")
        ]
    listed = {p.number: p for p in proposals if p.review_id == answered}
    owner = next(iter(listed.values())).owner
    if sender != owner:
        return [row(f"ignored: from {sender}, not from {owner}, who was asked")]
    if is_automatic(msg):  # an out-of-office answering the review email decides nothing
        return [row("ignored: an automatic reply (out of office), not a decision")]
    said = parse_reply(lines, now.date(), names)
    unknown = sorted(set(said.by_number) - set(listed))
    if unknown:
        numbers = ", ".join(map(str, unknown[:10]))
        said.problems.append(f"no email numbered {numbers} in that review email")
    if said.problems:
        return [row(f"{NOT_APPLIED}: {'; '.join(said.problems)}; nothing was sent", owner)]
    if said.empty:
        return [row(f"ignored: no decision in it (write for example: {EXAMPLES})")]
    return _applied(said, listed, journal, row, f"by reply from {sender}", now, run_id)


def _applied(
    said: ReplyDecisions,
    listed: Mapping[int, Proposal],
    journal: Journal,
    row: Callable[[str], Entry],
    how: str,
    now: dt.datetime,
    run_id: str,
) -> list[Entry]:
    """The reply's decisions made; the Log says what changed and what was no longer open."""
    decisions = {}
    closed = []
    for number, p in sorted(listed.items()):
        decision = said.for_number(number)
        if decision is None:
            continue
        if p.status in OPEN:
            decisions[p.ident] = decision
        else:
            closed.append(f"{number} is {p.status_cell}")
    changed, entries = decide({p.ident: p for p in listed.values()}, decisions, how, now, run_id)
    journal.keep_proposals(changed.values())
    done = {n for n, p in listed.items() if p.ident in changed}
    detail = f"applied: {said.said(done)}" if done else "nothing applied"
    if closed:
        detail += f"; {', '.join(closed[:10])}"
    return [row(detail), *entries]


def _words(lines: Sequence[str]) -> set[str]:
    return {w for line in lines for w in line.lower().split()}


def owed_answers(journal: Journal, head: Letterhead, today: dt.date) -> list[Draft]:
    """An answer to each reply that applied nothing and has none yet (EMAIL.md: the next
    run tells the owner what was not understood and that nothing was sent)."""
    rows = [
        e
        for e in journal.review_replies()
        if e.partner_email and e.detail.startswith(f"{NOT_APPLIED}: ")
    ]
    drafts = [
        answer_draft(
            e.partner_email,
            e.key,
            e.subject,
            dt.datetime.fromisoformat(e.timestamp).date(),
            e.detail.removeprefix(f"{NOT_APPLIED}: ").removesuffix("; nothing was sent"),
            head,
            today,
        )
        for e in rows
    ]
    done = journal.states(d.keys[0] for d in drafts)
    return [d for d in drafts if d.keys[0] not in done]
