"""Review before sending (EMAIL.md, "Review before sending"; SHEET.md, Review): what a
proposal is, how the Review tab shows it, the decisions a cell or a reply can hold, why a
proposal is withdrawn, and the one review email per owner per run."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automations.core import keys as keyspace
from automations.core.digest import ACTION_WORDS
from automations.core.mail.draft import Draft
from automations.core.mail.letterhead import Letterhead, base_context
from automations.core.values import parse_date
from automations.core.vocabulary import Action, Kind, Status
from automations.core.wording import as_date, on_day, when
from automations.errors import ValueProblem

REVIEW_COLUMNS = (
    "proposed_on",
    "kind",
    "to",
    "subject",
    "preview",
    "why",
    "keys",
    "proposal",
    "status",
    "decision",
)
# A proposal in one of these is open: its keys are never proposed again meanwhile.
OPEN = ("waiting", "approved", "later")


@dataclass(frozen=True)
class Proposal:
    """One email waiting for (or past) the user's decision, exactly as it would be sent."""

    ident: str  # its Message-ID
    keys: tuple[str, ...]
    kind: Kind
    template: str
    partners: tuple[str, ...]  # the partner each key is about (Log `partner_email`)
    to_email: str
    to_name: str
    owner: str  # who decides: the relationship owner (the sender when blank)
    subject: str
    preview: str  # the first lines of the body, as the user sees them
    why: str
    proposed_at: str  # ISO 8601 with offset
    status: str = "waiting"
    detail: str = ""
    later_until: str = ""  # ISO date, with status `later`
    review_id: str = ""  # Message-ID of the review email that lists it
    number: int = 0  # its number in that email
    data: bytes = b""
    # The Cc and Bcc addresses it goes to besides `to_email`, as proposed: an approval sends
    # to exactly these, whatever the config says since. None: an earlier version proposed it.
    copies: tuple[str, ...] | None = None
    # Its id, unique to this proposal even when the same keys are proposed again within a
    # second; blank: an earlier version made it (then derived from ident and proposed_at).
    proposal: str = ""

    @property
    def campaign(self) -> str:
        """The campaign whose outreach this is (its keys `campaign:<name>:…`), else ""."""
        return next((k.split(":")[1] for k in self.keys if k.startswith("campaign:")), "")

    @property
    def keys_cell(self) -> str:
        """The Review tab's `keys` cell: how a row is found again after sorting."""
        return " ".join(self.keys)

    @property
    def pid(self) -> str:
        """The proposal's id (the Review tab's `proposal` cell): a new proposal of the same
        keys (the same Message-ID) gets another, so a decision never passes to it."""
        return self.proposal or proposal_id(self.ident, self.proposed_at)

    @property
    def proposed_day(self) -> dt.date:
        """The day it was proposed."""
        return dt.datetime.fromisoformat(self.proposed_at).date()

    @property
    def status_cell(self) -> str:
        """The Review tab's `status` (SHEET.md: waiting, sent, skipped, withdrawn: reason,
        later until …)."""
        if self.status == Status.WITHDRAWN:
            return f"withdrawn: {self.detail}" if self.detail else Status.WITHDRAWN
        if self.status == "later":
            return f"later until {self.later_until}"
        if self.status == "approved":
            return "approved: goes with the next run"
        return self.status

    def row(self) -> list[Any]:
        """Its Review row in REVIEW_COLUMNS order; `decision` is the user's, always blank."""
        return [
            self.proposed_at[:10],
            self.kind,
            self.to_email,
            self.subject,
            self.preview,
            self.why,
            self.keys_cell,
            self.pid,
            self.status_cell,
            "",
        ]


def repaired_header(header: Sequence[str]) -> list[str]:
    """The Review header with each toolkit column the user renamed or blanked named again
    where the toolkit put it (SHEET.md, Review), so ids, statuses and the user's decisions
    are still read from their own columns."""
    out = [*header, *[""] * (len(REVIEW_COLUMNS) - len(header))]  # blanks at the end: unread
    for i, name in enumerate(REVIEW_COLUMNS):
        if name not in out and out[i] not in REVIEW_COLUMNS:
            out[i] = name
    return out


def row_pid(cells: Mapping[str, Any], earlier: Mapping[tuple[str, str], str], order: str) -> str:
    """The id of the proposal a Review row stands for (SHEET.md, Review): its `proposal`
    cell; a row a version before ids wrote is the proposal of its keys proposed that day
    (`earlier`: (keys cell, ISO day) -> id), so a decision left from an earlier proposal of
    the same keys never applies to a new one."""
    pid = str(cells.get("proposal") or "").strip()
    if pid:
        return pid
    keys = str(cells.get("keys") or "").strip()
    try:
        day = parse_date(cells.get("proposed_on"), order)
    except ValueProblem:
        return ""
    return earlier.get((keys, day.isoformat()), "") if day else ""


def proposal_id(ident: str, proposed_at: str) -> str:
    """A proposal's id from its Message-ID and the moment it was proposed (SHEET.md, Review)."""
    made = hashlib.sha256(f"{ident}\n{proposed_at}".encode()).hexdigest()
    return f"P-{made[:10]}"


def review_order(p: Proposal) -> tuple[str, int, str]:
    """Oldest first, and within one run in the review email's numbering."""
    return (p.proposed_at, p.number or 10**6, p.ident)


def waiting_lines(
    proposals: Sequence[Proposal], today: dt.date
) -> dict[str, list[tuple[str, str]]]:
    """For each owner, the open proposals as (partner, words), oldest first, for the digest
    (EMAIL.md, review): "thank-you to Dana Whitfield, waiting since 3 December"."""
    out: dict[str, list[tuple[str, str]]] = {}
    for p in sorted(proposals, key=review_order):
        if p.status not in OPEN:
            continue
        what = about(p)
        if p.status == "approved":
            line = f"{what}: approved, goes with the next run"
        elif p.status == "later":
            line = f"{what}: you asked to see it again {on_day(p.later_until, today)}"
        else:
            line = f"{what}, waiting since {when(p.proposed_day, today).removeprefix('on ')}"
        out.setdefault(p.owner, []).append((p.partners[0] if p.partners else p.to_email, line))
    return out


def under_review(kind: Kind, reviewed: Sequence[str]) -> bool:
    """Whether emails of `kind` wait for approval (review emails themselves never do)."""
    return kind != Kind.REVIEW and kind in reviewed


@dataclass(frozen=True)
class Decision:
    """What the user decided: `send`, `skip`, or `later` until a day."""

    verb: str
    until: dt.date | None = None


def decision_of_cell(value: object, order: str = "YMD") -> Decision | None:
    """A Review `decision` cell: send, skip, or a date (later until then); None if blank or
    not one of these (said once in the run's output, never guessed)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("send", "yes", "ok", "approve", "approved"):
            return Decision("send")
        if text in ("skip", "no", "don't send", "do not send"):
            return Decision("skip")
        text = text.removeprefix("later").strip()
        value = text or value
    try:
        day = parse_date(value, order)
    except ValueProblem:
        return None
    return Decision("later", day) if day else None


def held_by_a_row(health: Mapping[str, Any] | None, row_blocked: bool) -> bool:
    """Whether a row with an error this run is what stops the partner's email: then a
    proposal is not withdrawn, it waits (EMAIL.md, RULES.md "Rows with a problem")."""
    return row_blocked or bool(health and health.get("action") == Action.FIX_ROW)


def referral_days(p: Proposal) -> list[tuple[str, str]]:
    """(partner, ISO day) of each referral the proposal is about (thank, outcome, and an
    escalation of a referral: EMAIL.md, the key forms)."""
    out = []
    for key, partner in zip(p.keys, p.partners, strict=True):
        parts = key.split(":")
        if parts[0] in (Kind.THANK, Kind.OUTCOME) or (
            parts[0] == Kind.ESCALATION and parts[-2] in ("received", "given")
        ):
            out.append((partner, parts[-1]))
    return out


def withdraw_reason(
    health: Mapping[str, Any] | None, proposal: Proposal, today: dt.date, gone: Sequence[str] = ()
) -> str:
    """Why an open proposal that is not due today is withdrawn, for a lasting reason only:
    the partner's row or a referral row is gone, the partner replied, is blocked (bounced,
    unsubscribed, do_not_email) or snoozed (EMAIL.md). "" when the reason does not last:
    the proposal then waits. `gone`: the ISO days of its referrals no longer in Referrals."""
    if not health:
        return "the partner's row is gone from Partners"
    if gone:
        days = " and ".join(on_day(dt.date.fromisoformat(d), today) for d in sorted(gone))
        return f"the referral {days} is gone from Referrals"
    replied = as_date(health.get("last_inbound"))
    if replied is not None and replied >= proposal.proposed_day:
        return f"the partner replied {on_day(replied, today)}"
    reason = str(health.get("reason", "")).strip()
    if health.get("action") == Action.BLOCKED:
        return f"blocked: {reason}" if reason else "the partner is blocked"
    if reason.startswith("snoozed"):
        return reason.split(";")[0]
    return ""


def about(p: Proposal) -> str:
    """The proposal in a few words naming the partner: "thank-you to Dana Whitfield"."""
    return f"{ACTION_WORDS.get(p.kind, p.kind + ' to')} {p.to_name or p.to_email}"


def review_draft(
    owner: str,
    proposals: Sequence[Proposal],
    letterhead: Letterhead,
    today: dt.date,
    run_id: str,
    expires_days: int,
    sheet_review: bool,
) -> Draft:
    """The one review email of this run to `owner`: the new proposals, numbered."""
    name = letterhead.owner_name(owner)
    items = [
        {
            "number": p.number,
            "to": p.to_name or p.to_email,
            "to_email": p.to_email,
            "kind": p.kind.replace("_", "-"),
            "subject": p.subject,
            "why": p.why,
            "preview": p.preview,
        }
        for p in proposals
    ]
    context = {
        **base_context(letterhead, today),
        "owner": {"email": owner, "name": name},
        "items": items,
        "first": items[0]["number"],
        "last": items[-1]["number"],
        "expires_days": expires_days,
        "later_example": (today + dt.timedelta(days=14)).isoformat(),
        "sheet_review": sheet_review,
    }
    key = keyspace.review(owner, run_id)
    return Draft(
        kind=Kind.REVIEW,
        template=Kind.REVIEW,
        to_email=owner,
        to_name=name,
        keys=(key,),
        key_partners=(owner,),
        context=context,
        priority=0,
        why=f"{len(items)} email(s) wait for your approval",
    )


def answer_draft(
    owner: str,
    reply_key: str,
    reply_subject: str,
    reply_day: dt.date | None,
    problems: str,
    letterhead: Letterhead,
    today: dt.date,
) -> Draft:
    """The owner's short internal answer to a reply that applied nothing: what was not
    understood and that nothing was sent (EMAIL.md, review by reply)."""
    name = letterhead.owner_name(owner)
    context = {
        **base_context(letterhead, today),
        "owner": {"email": owner, "name": name},
        "reply_subject": reply_subject,
        "reply_day": on_day(reply_day, today).removeprefix("on ") if reply_day else "",
        "problems": problems,
        "later_example": (today + dt.timedelta(days=14)).isoformat(),
    }
    return Draft(
        kind=Kind.REVIEW,
        template="review_answer",
        to_email=owner,
        to_name=name,
        keys=(keyspace.review_answer(owner, reply_key),),
        key_partners=(owner,),
        context=context,
        priority=0,
        why="your reply to a review email was not understood",
    )
