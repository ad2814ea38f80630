"""The Status tab: a few rows a user reads first (SHEET.md, Status): how the last run
ended, in a sentence; what it sent; what waits for approval and since when; row problems;
sign-ins that will end soon; the next scheduled run when the scheduler knows it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

# Microsoft ends a refresh token unused this long; Google one of an OAuth client whose
# consent screen is in "Testing" this long after the sign-in (FIELD-NOTES.md, Signing in).
MICROSOFT_IDLE = dt.timedelta(days=90)
GOOGLE_TESTING = dt.timedelta(days=7)
SOON = dt.timedelta(days=30)  # a sign-in ending within this is worth a line

STATUS_HEADER = ("what", "status")
ENDINGS = {0: "finished OK", 1: "finished with problems", 2: "failed"}


@dataclass(frozen=True)
class SignIn:
    """A saved OAuth sign-in: when `partners login` made it and when a run last used it
    (None: not known, a cache written before the toolkit kept it)."""

    purpose: str  # mail or imap
    provider: str  # google or microsoft
    username: str
    signed_in: dt.datetime | None
    last_used: dt.datetime | None


@dataclass(frozen=True)
class Ahead:
    """What lies ahead of the engine: the moment of the run, its saved sign-ins, and the
    next job the scheduler will start and when (None: no scheduler has run here)."""

    now: dt.datetime
    sign_ins: tuple[SignIn, ...] = ()
    next_run: tuple[str, dt.datetime] | None = None
    zone: str = ""


def status_rows(
    started: dt.datetime | None,
    code: int,
    detail: str,
    sent: int,
    waiting: Sequence[str] | None,
    problems: Sequence[str],
    ahead: Ahead | None = None,
    disputes: Sequence[str] = (),
) -> list[list[str]]:
    """The Status tab's rows, header first (SHEET.md, Status). `waiting`: the proposed_on
    of each proposal waiting for approval (None: this run did not look); `problems`: row problems as `Tab!row ...`."""
    when = f" of {started:%Y-%m-%d %H:%M}" if started else ""
    ending = ENDINGS[min(max(code, 0), 2)]
    rows = [list(STATUS_HEADER), ["last run", f"The run{when} {ending}: {detail}."]]
    rows.append(["sent", f"It sent {_emails(sent)}." if sent else "It sent no email."])
    if waiting:
        since = min(str(w)[:10] for w in waiting)
        rows.append(
            [
                "waiting",
                f"{_emails(len(waiting))} {'waits' if len(waiting) == 1 else 'wait'} for your "
                f"approval in Review, since {since}.",
            ]
        )
    elif waiting is not None:
        rows.append(["waiting", "Nothing waits for your approval."])
    if disputes:  # RULES.md, Statements: open until a Touches row of kind `statement`
        rows.append(["disputed statements", f"{len(disputes)} to settle: " + "; ".join(disputes)])
    if problems:
        shown = "; ".join(problems[:5]) + ("; …" if len(problems) > 5 else "")
        rows.append(["row problems", f"{len(problems)} row(s) need a fix: {shown}"])
    else:
        rows.append(["row problems", "No row has a problem."])
    if ahead is not None:
        rows += _ahead_rows(ahead)
    return rows


def _ahead_rows(ahead: Ahead) -> list[list[str]]:
    """Sign-ins ending soon and the next scheduled run (SHEET.md, Status)."""
    rows = [["sign-in", line] for s in ahead.sign_ins if (line := sign_in_sentence(s, ahead.now))]
    if ahead.sign_ins and not rows:
        rows.append(["sign-in", f"No saved sign-in ends in the next {SOON.days} days."])
    if ahead.next_run is not None:
        job, when = ahead.next_run
        zone = f" ({ahead.zone})" if ahead.zone else ""
        rows.append(
            [
                "next run",
                f"The scheduler starts {job} next on {when:%A %Y-%m-%d at %H:%M}{zone}.",
            ]
        )
    return rows


def sign_in_sentence(sign_in: SignIn, now: dt.datetime) -> str:
    """What the user should know of a sign-in that ends soon, in a sentence ("" when
    nothing); FIELD-NOTES.md: Microsoft 90 idle days, Google clients in Testing 7 days."""
    who = f"{sign_in.provider.title()} sign-in for {sign_in.purpose} ({sign_in.username})"
    again = f"`partners login {sign_in.purpose}`"
    if sign_in.provider == "microsoft" and sign_in.last_used is not None:
        ends = sign_in.last_used + MICROSOFT_IDLE
        used = f"was last used on {sign_in.last_used:%Y-%m-%d}"
        if ends <= now:
            return (
                f"The {who} {used}, so it ended on {ends:%Y-%m-%d} (90 days unused): run {again}."
            )
        if ends - now <= SOON:
            return (
                f"The {who} {used} and ends on {ends:%Y-%m-%d} if no run uses it before "
                f"(90 days unused): a run that sends or reads mail keeps it; else run {again}."
            )
        return ""
    if sign_in.provider == "google" and sign_in.signed_in is not None:
        ends = sign_in.signed_in + GOOGLE_TESTING
        if sign_in.last_used is not None and sign_in.last_used > ends:
            return ""  # refreshed after the seventh day: the client is not in Testing
        publish = (
            "publish the app (Google Cloud console, OAuth consent screen, Publish app; "
            "unverified is fine for your own account)"
        )
        if ends <= now:
            return (
                f"The {who} was made on {sign_in.signed_in:%Y-%m-%d}; if your Google OAuth "
                f"client is still in Testing it ended on {ends:%Y-%m-%d}: {publish}, then "
                f"run {again}."
            )
        return (
            f"If your Google OAuth client is still in Testing, the {who} ends on "
            f"{ends:%Y-%m-%d} (7 days after you signed in): {publish} and run {again} once more."
        )
    return ""


def _emails(n: int) -> str:
    return f"{n} email" if n == 1 else f"{n} emails"
