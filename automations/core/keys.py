"""Every idempotency key format of EMAIL.md's frozen table, in one place.

Emails are lower case and dates ISO. A later version must still read every earlier
form: an owner's self-assessment was `survey:<owner>:<yyyy>Q<q>`, now `survey_owner:`.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np


def quarter_label(day: dt.date) -> str:
    """`2026Q2`: the calendar quarter of `day`, as keys write it."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def iso_week(day: dt.date) -> str:
    """`2026-W48`: the ISO week of `day`, as digest keys write it."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def joined(prefix: str, emails: np.ndarray, *parts: np.ndarray | str) -> np.ndarray:
    """`prefix<email>:<part>:<part>` for whole arrays at once (object array)."""
    out = np.char.add(prefix, emails.astype(str))
    for part in parts:
        out = np.char.add(np.char.add(out, ":"), np.asarray(part).astype(str))
    return out.astype(object)


def campaign(name: str, email: str) -> str:
    """An outreach of campaign `name` to `email`."""
    return f"campaign:{name}:{email}"


def follow_up(emails: np.ndarray, outreach_dates: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The n-th follow-up after the outreach of that date."""
    return joined("follow_up:", emails, outreach_dates, n)


def thank(emails: np.ndarray, referral_dates: np.ndarray) -> np.ndarray:
    """A thank-you for the referral of that date (one key per referral covered)."""
    return joined("thank:", emails, referral_dates)


def outcome(emails: np.ndarray, referral_dates: np.ndarray) -> np.ndarray:
    """The outcome of the referral of that date."""
    return joined("outcome:", emails, referral_dates)


def referral_escalation(
    emails: np.ndarray, directions: np.ndarray, referral_dates: np.ndarray
) -> np.ndarray:
    """An escalation of a stale referral (`received` or `given`) of that date."""
    return joined("escalation:", emails, directions, referral_dates)


def survey_escalation(emails: np.ndarray, response_dates: np.ndarray) -> np.ndarray:
    """An escalation of a low survey response of that date."""
    return joined("escalation:", emails, "survey", response_dates)


def survey(emails: np.ndarray, quarter: str) -> np.ndarray:
    """The partner's survey of that quarter."""
    return joined("survey:", emails, quarter)


def statement(emails: np.ndarray, quarter: str) -> np.ndarray:
    """The partner's referral statement sent in that quarter (like a survey's key)."""
    return joined("statement:", emails, quarter)


def nurture(emails: np.ndarray, base_dates: np.ndarray) -> np.ndarray:
    """The check-in counted from that last touch (`never` when there was none)."""
    return joined("nurture:", emails, base_dates)


def digest(owner: str, day: dt.date) -> str:
    """The owner's digest of the ISO week of `day`."""
    return f"digest:{owner}:{iso_week(day)}"


def survey_owner(owner: str, day: dt.date) -> str:
    """The owner's self-assessment invitation of the quarter of `day`."""
    return f"survey_owner:{owner}:{quarter_label(day)}"


def survey_owner_earlier(owner: str, day: dt.date) -> str:
    """The form earlier versions wrote for it (still read: it stops a second invitation)."""
    return f"survey:{owner}:{quarter_label(day)}"


def review(owner: str, run_id: str) -> str:
    """The review email of one run to one owner."""
    return f"review:{owner}:{run_id}"


def review_answer(owner: str, reply_id: str) -> str:
    """The owner's answer to a reply to the review email that was not understood."""
    digest = hashlib.sha256(reply_id.encode("utf-8")).hexdigest()[:16]
    return f"review:{owner}:answer-{digest}"


def alert(owner: str, day: dt.date) -> str:
    """The owner's email of one day about runs that keep failing (at most one a day)."""
    return f"alert:{owner}:{day.isoformat()}"
