"""The words the toolkit and the sheet share: actions, email kinds, Log statuses (SHEET.md,
RULES.md, EMAIL.md), each once, with the orders that rank them."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What Health says a relationship needs (RULES.md, in priority order)."""

    ESCALATE = "escalate"
    THANK = "thank"
    OUTCOME = "outcome"
    FOLLOW_UP = "follow_up"
    FADE = "fade"
    STATEMENT = "statement"  # the quarterly referral statement (RULES.md, Statements)
    SURVEY = "survey"
    NURTURE = "nurture"
    NONE = "none"
    BLOCKED = "blocked"
    FIX_ROW = "fix row"  # the partner's own Partners row has an error (RULES.md)


class Kind(StrEnum):
    """An email the toolkit writes (one template each)."""

    OUTREACH = "outreach"
    FOLLOW_UP = "follow_up"
    NURTURE = "nurture"
    THANK = "thank"
    OUTCOME = "outcome"
    SURVEY = "survey"
    STATEMENT = "statement"
    ESCALATION = "escalation"
    DIGEST = "digest"
    SURVEY_OWNER = "survey_owner"
    REVIEW = "review"
    ALERT = "alert"  # runs that keep failing, to the owner ([alerts] email_owner_after)


class Status(StrEnum):
    """A Log row's status (SHEET.md); `pending` lives only in the journal."""

    SENT = "sent"
    WRITTEN = "written"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCERTAIN = "uncertain"
    REPLY = "reply"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    PROPOSED = "proposed"
    WITHDRAWN = "withdrawn"
    MEETING = "meeting"
    EMAILED = "emailed"
    CONFIRMED = "confirmed"  # the partner agreed with a statement
    DISPUTED = "disputed"  # the partner corrected a statement (open until a Touches row)
    OK = "ok"  # a `run` row: the run did all it set out to do
    PROBLEMS = "problems"  # a `run` row: done, but something needs a look
    PENDING = "pending"


ACTION_ORDER = tuple(a.value for a in Action)  # Health's sort order
# The actions that write to the partner themself (escalate writes to the owner).
PARTNER_ACTIONS = (
    Action.THANK,
    Action.OUTCOME,
    Action.FOLLOW_UP,
    Action.STATEMENT,
    Action.SURVEY,
    Action.NURTURE,
)
# What `partners nurture --only` picks from, and what `partners login` signs in to (CLI.md).
NURTURE_KINDS = (
    Kind.ESCALATION,
    Kind.THANK,
    Kind.OUTCOME,
    Kind.FOLLOW_UP,
    Kind.STATEMENT,
    Kind.SURVEY,
    Kind.NURTURE,
)
SIGN_IN_PURPOSES = ("mail", "imap", "sheet")
PARTNER_KINDS = (
    Kind.OUTREACH,
    Kind.FOLLOW_UP,
    Kind.NURTURE,
    Kind.THANK,
    Kind.OUTCOME,
    Kind.SURVEY,
    Kind.STATEMENT,
)
INTERNAL_KINDS = (Kind.ESCALATION, Kind.DIGEST, Kind.SURVEY_OWNER, Kind.REVIEW, Kind.ALERT)
# The order due emails go in when a cap cuts the run short (most important first).
EMAIL_PRIORITY = {
    Kind.ESCALATION: 0,
    Kind.THANK: 1,
    Kind.OUTCOME: 2,
    Kind.FOLLOW_UP: 3,
    Kind.STATEMENT: 4,
    Kind.SURVEY: 5,
    Kind.SURVEY_OWNER: 5,
    Kind.NURTURE: 6,
    Kind.DIGEST: 8,
}
LOG_STATUSES = tuple(s.value for s in Status if s is not Status.PENDING)
# The statuses that record what became of an email (the latest one is the key's state).
SEND_OUTCOMES = (
    Status.SENT,
    Status.WRITTEN,
    Status.FAILED,
    Status.SKIPPED,
    Status.UNCERTAIN,
    Status.WITHDRAWN,
)
# A key in one of these states is never sent again (`written` only stops the outbox).
NEVER_AGAIN = (Status.SENT, Status.PENDING, Status.UNCERTAIN, Status.SKIPPED, Status.WITHDRAWN)


def delivered(count_written: bool) -> tuple[Status, ...]:
    """The statuses that mean the email reached (or may have reached) its reader: `written`
    counts only while the backend is the outbox (EMAIL.md: it never reached a partner)."""
    if count_written:
        return (Status.SENT, Status.UNCERTAIN, Status.WRITTEN)
    return (Status.SENT, Status.UNCERTAIN)
