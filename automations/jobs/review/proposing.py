"""New proposals (EMAIL.md, "Review before sending"): the exact message kept with its
keys and id, and one review email per owner listing them, numbered."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import replace

from automations.adapters.state import Entry
from automations.config import Settings
from automations.core.mail.draft import Draft
from automations.core.review import Proposal, proposal_id, review_draft
from automations.core.vocabulary import Status
from automations.core.wording import opening
from automations.jobs.review.decisions import moved
from automations.jobs.sending import Prepared, stamp
from automations.jobs.wiring import letterhead

REVIEW_ID = "review"  # a review email's Message-ID: <review.TOKEN@domain>


def proposals_of(
    prepared: Iterable[Prepared], now: dt.datetime, run_id: str, sender: str
) -> tuple[list[Proposal], list[Entry]]:
    """New proposals from rendered drafts: the exact message kept; Log `proposed` rows."""
    out: list[Proposal] = []
    entries: list[Entry] = []
    for p in prepared:
        d = p.draft
        owner = str((d.context.get("owner") or {}).get("email") or sender).lower()
        proposal = Proposal(
            ident=p.message_id,
            keys=d.keys,
            kind=d.kind,
            template=d.template,
            partners=d.key_partners,
            to_email=d.to_email,
            to_name=d.to_name,
            owner=owner,
            subject=p.subject,
            preview=shortened(" ".join(opening(p.rendered.text).split()), 300),
            why=d.why,
            proposed_at=stamp(now),
            data=p.as_bytes(),
            copies=p.copies,
            proposal=proposal_id(p.message_id, f"{stamp(now)} {run_id}"),
        )
        out.append(proposal)
        entries += moved(proposal, Status.PROPOSED, f"waits for approval: {d.why}", now, run_id)
    return out, entries


def shortened(text: str, limit: int) -> str:
    """`text` cut at the last whole word before `limit` characters, with "…" when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def review_emails(
    settings: Settings, proposals: list[Proposal], today: dt.date, run_id: str
) -> tuple[list[Draft], list[Proposal]]:
    """One review email per owner with new (or returning) proposals, numbered from 1; the
    proposals with their number and the review email's Message-ID (a reply names it)."""
    by_owner: dict[str, list[Proposal]] = {}
    for p in proposals:
        by_owner.setdefault(p.owner, []).append(p)
    head = letterhead(settings)
    drafts, numbered = [], []
    for owner, mine in sorted(by_owner.items()):
        draft = review_draft(
            owner,
            [replace(p, number=n) for n, p in enumerate(mine, start=1)],
            head,
            today,
            run_id,
            settings.mail.review_expires_days,
            settings.sheet.backend == "google",
        )
        # Random, kept only in the journal: a reply naming it answers this email, and
        # nothing in the sheet (the run id, the key) lets anyone make it up.
        domain = head.sender.email.rpartition("@")[2] or "localhost"
        ident = f"<{REVIEW_ID}.{secrets.token_urlsafe(18)}@{domain}>"
        draft = replace(draft, message_id=ident)
        numbered += [replace(p, number=n, review_id=ident) for n, p in enumerate(mine, start=1)]
        drafts.append(draft)
    return drafts, numbered
