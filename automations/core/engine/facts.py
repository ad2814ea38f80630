"""`Facts`: everything the rules know about each partner, gathered from whole tables at once.

Per-partner fields are arrays aligned with the Partners table; `ref_*` fields are aligned
with the Referrals table. Days are day numbers (days since 1970-01-01) as floats, NaN
where there is none. No row loops: numpy group max/min/sum over partner codes (RULES.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from automations.core.engine import arrays as f
from automations.core.engine.decisions import DecideOptions
from automations.core.engine.rules import Rules
from automations.core.engine.score import cadence_on, score_parts, tier_of
from automations.core.tables import Tables
from automations.core.vocabulary import PARTNER_KINDS, Kind, Status


@dataclass(frozen=True)
class Facts:
    """What is true of every partner on day `T` (see the module docstring)."""

    T: int
    n: int
    emails: pd.Index
    email: np.ndarray
    name: np.ndarray
    owner: np.ndarray
    status: np.ndarray
    first_contact: np.ndarray
    cadence_set: np.ndarray
    phase: np.ndarray  # a number of the address's own: the day its periodic emails fall on
    snooze: np.ndarray  # snooze_until: no follow-up, check-in, survey or campaign before it
    away: np.ndarray  # the day an automatic reply said the partner is back (RULES.md)
    do_not_email: np.ndarray
    error_blocked: np.ndarray
    handled: pd.Index
    # Referrals, one entry per Referrals row.
    ref_code: np.ndarray
    ref_day: np.ndarray
    ref_received: np.ndarray
    ref_pending: np.ndarray
    ref_closed_day: np.ndarray
    ref_closed: np.ndarray  # won or lost
    ref_direction: np.ndarray
    # Per partner.
    r: np.ndarray
    g: np.ndarray
    received_12m: np.ndarray
    given_12m: np.ndarray
    won_value_12m: np.ndarray
    fee_owed: np.ndarray
    last_referral: np.ndarray
    blocked_day: np.ndarray
    blocked_status: np.ndarray
    last_inbound: np.ndarray
    last_email: np.ndarray
    last_touch: np.ndarray
    age: np.ndarray
    survey_avg: np.ndarray
    survey_day: np.ndarray
    survey_low: np.ndarray
    survey_low_item: np.ndarray
    last_answer: np.ndarray
    last_survey: np.ndarray
    surveys_unanswered: np.ndarray  # surveys sent since the partner last engaged or answered
    outreach_day: np.ndarray
    thread_message_id: np.ndarray
    thread_subject: np.ndarray
    fu_n: np.ndarray
    max_follow_ups: int
    last_fu: np.ndarray
    inbound_since: np.ndarray
    unanswered: np.ndarray
    nurture_base: np.ndarray
    last_nurture: np.ndarray  # the last check-in sent (for a cold prospect: its last note)
    nurtures_sent: np.ndarray  # check-ins ever sent: the shipped templates vary by it
    surveys_sent: np.ndarray
    score: np.ndarray
    tier: np.ndarray
    cadence: np.ndarray
    log_view: f.LogView  # the Log as read for the rules; Health's statement column reads it too

    @property
    def hard(self) -> np.ndarray:
        """Never emailed: do_not_email, a bounced or refused address, a row error."""
        return self.do_not_email | ~np.isnan(self.blocked_day) | self.error_blocked

    @property
    def soft(self) -> np.ndarray:
        """No check-ins or surveys: paused, faded or declined."""
        return np.isin(self.status, ["paused", "faded", "declined"])

    @property
    def has_outreach(self) -> np.ndarray:
        """A campaign's outreach reached the partner."""
        return ~np.isnan(self.outreach_day)

    @property
    def cold(self) -> np.ndarray:
        """A contacted partner who never engaged, with the follow-ups used up (RULES.md,
        `last_note`): no check-ins that pretend a relationship, one honest last note."""
        exhausted = ~self.has_outreach | (self.fu_n >= self.max_follow_ups)
        return (self.status == "contacted") & exhausted & np.isnan(self.last_inbound)

    @property
    def partnership_start(self) -> np.ndarray:
        """The day the partnership began (first_contact, else the first touch)."""
        return self.T - self.age


def gather(tables: Tables, today: dt.date, rules: Rules, options: DecideOptions) -> Facts:
    """Every partner's facts as of `today` (RULES.md, "Terms")."""
    T = f.day_number(today)
    found: dict[str, Any] = {"T": T, **_partners(tables, options)}
    found |= _referrals(tables.referrals, found, T)
    log = f.log_view(tables.log, found["emails"], options.count_written)
    found["log_view"] = log
    found |= _log(log, found["n"])
    found["away"] = _away(log, found["n"])
    found |= _unsubscribes(tables.unsubscribes, found)
    found |= _contacts(tables, log, found, T)
    found |= _survey(tables, options, found, T)
    found["surveys_unanswered"] = _surveys_unanswered(log, found)
    found |= _outreach(log, found)
    found["max_follow_ups"] = rules.max_follow_ups
    found["score"] = score_parts(
        found["r"], found["g"], T - found["last_inbound"], found["survey_avg"]
    )
    found["tier"] = tier_of(found["score"], rules)
    found["cadence"] = cadence_on(found["tier"], found["cadence_set"], rules)
    return Facts(**found)


def _partners(tables: Tables, options: DecideOptions) -> dict[str, Any]:
    P = tables.partners.reset_index(drop=True)
    emails = pd.Index(P["email"])
    owner = P["owner"].to_numpy(dtype=object)
    return {
        "n": len(P),
        "emails": emails,
        "email": P["email"].to_numpy(dtype=object),
        "name": P["name"].to_numpy(dtype=object),
        "owner": np.where(owner == "", options.sender_email.lower(), owner),
        "status": P["status"].to_numpy(dtype=object),
        "first_contact": f.day_numbers(P["first_contact"]),
        "cadence_set": P["cadence_days"].to_numpy(dtype="float64"),
        "phase": _phases(P["email"]),
        "snooze": f.day_numbers(P["snooze_until"]),
        "do_not_email": P["do_not_email"].to_numpy(dtype=bool),
        "error_blocked": emails.isin(list(tables.blocked)),
        "fee_pct": P["referral_fee_pct"].to_numpy(dtype="float64"),
    }


def _phases(emails: pd.Series) -> np.ndarray:
    """A number per address from its SHA-256, the same on every run and machine (RULES.md,
    Spreading): Python's own `hash` of a string changes from one process to the next."""
    digests = (hashlib.sha256(str(e).lower().encode()).digest()[:4] for e in emails)
    return np.fromiter((int.from_bytes(d, "big") for d in digests), dtype="float64")


def _referrals(R: pd.DataFrame, found: dict[str, Any], T: int) -> dict[str, Any]:
    n = found["n"]
    rc = found["emails"].get_indexer(pd.Index(R["partner_email"]))
    rday = f.day_numbers(R["date"])
    rage = T - rday
    received = (R["direction"] == "received").to_numpy()
    won = (R["status"] == "won").to_numpy()
    weight = 0.5 ** (rage / 180)
    recent = rage < 365
    value = np.nan_to_num(R["value"].to_numpy(dtype="float64"))
    fee_pct = found.pop("fee_pct")
    pct = fee_pct[rc] if len(rc) else np.zeros(0)
    paid = np.nan_to_num(R["fee_paid"].to_numpy(dtype="float64"))
    owed = np.where(np.isnan(pct), 0.0, value * np.nan_to_num(pct) / 100 - paid)
    return {
        "ref_code": rc,
        "ref_day": rday,
        "ref_received": received,
        "ref_pending": R["status"].isin(["new", "contacted"]).to_numpy(),
        "ref_closed_day": f.day_numbers(R["closed_on"]),
        "ref_closed": R["status"].isin(["won", "lost"]).to_numpy(),
        "ref_direction": R["direction"].to_numpy(dtype=object),
        "r": f.group_sum(rc[received], (weight * np.where(won, 2, 1))[received], n),
        "g": f.group_sum(rc[~received], weight[~received], n),
        "received_12m": f.group_sum(rc[received & recent], None, n),
        "given_12m": f.group_sum(rc[~received & recent], None, n),
        "won_value_12m": f.group_sum(
            rc[received & recent & won], value[received & recent & won], n
        ),
        "fee_owed": np.round(f.group_sum(rc[received & won], owed[received & won], n), 2),
        "last_referral": f.group_max(rc, rday, n),
    }


def _unsubscribes(U: pd.DataFrame, found: dict[str, Any]) -> dict[str, Any]:
    """The Unsubscribes tab blocks like do_not_email, since its first row for the address
    (SHEET.md); an unsubscribe the Log already holds keeps its own day."""
    blocked_day, blocked_status = found["blocked_day"].copy(), found["blocked_status"].copy()
    codes = found["emails"].get_indexer(pd.Index(U["email"]))
    mine = codes >= 0
    if mine.any():
        days = f.day_numbers(U["timestamp"])
        days[np.isnan(days)] = found["T"]  # a row typed without its time still blocks
        first = f.group_min(codes[mine], days[mine], found["n"])
        fresh = ~np.isnan(first) & np.isnan(blocked_day)
        blocked_day[fresh] = first[fresh]
        blocked_status[fresh] = "unsubscribes"
    return {"blocked_day": blocked_day, "blocked_status": blocked_status}


def _log(L: f.LogView, n: int) -> dict[str, Any]:
    """Bounces, refusals and unsubscribes; the keys already handled."""
    known = L.code >= 0
    failed_5xx = (L.status == Status.FAILED) & pd.Series(L.detail, dtype=object).astype(
        str
    ).str.match(r"5\d\d").to_numpy()
    refused = known & (np.isin(L.status, [Status.BOUNCE, Status.UNSUBSCRIBE]) | failed_5xx)
    blocked_status = np.full(n, "", dtype=object)
    if refused.any():
        last = pd.DataFrame({"c": L.code[refused], "d": L.day[refused], "s": L.status[refused]})
        last = last.sort_values(["c", "d"]).drop_duplicates("c", keep="last")
        blocked_status[last["c"].to_numpy()] = last["s"].to_numpy()
    return {
        "handled": L.handled_keys,
        "blocked_day": f.group_max(L.code[refused], L.day[refused], n),
        "blocked_status": blocked_status,
    }


def _away(L: f.LogView, n: int) -> np.ndarray:
    """The latest return day an automatic reply named (Log action `away`, its key ending in
    the ISO day), per partner; NaN where none."""
    rows = (L.code >= 0) & (L.action == "away")
    if not rows.any():
        return np.full(n, np.nan)
    days = pd.Series(L.key[rows].to_numpy(dtype=object)).str.rsplit(":", n=1).str[-1]
    back = f.day_numbers(pd.to_datetime(days, format="%Y-%m-%d", errors="coerce"))
    return f.group_max(L.code[rows], back, n)


def _contacts(tables: Tables, L: f.LogView, found: dict[str, Any], T: int) -> dict[str, Any]:
    """Inbound, touches, the last email, the partnership's age, the check-in base."""
    n, rc, rday, received = found["n"], found["ref_code"], found["ref_day"], found["ref_received"]
    Tch = tables.touches
    tc = found["emails"].get_indexer(pd.Index(Tch["partner_email"]))
    tday = f.day_numbers(Tch["date"])
    tin = (Tch["direction"] == "in").to_numpy()
    lc, lday, known = L.code, L.day, L.code >= 0
    to_partner = known & L.sent_mask & np.isin(L.action, PARTNER_KINDS)
    # A calendar meeting counts as the partner's (inbound), like a reply; an email the user
    # wrote from their own mail program is an outgoing touch (RULES.md, touches that record
    # themselves).
    reply = known & np.isin(
        L.status, [Status.REPLY, Status.MEETING, Status.CONFIRMED, Status.DISPUTED]
    )
    emailed = known & (L.status == Status.EMAILED)
    last_inbound = f.nanmax(
        f.group_max(rc[received], rday[received], n),
        f.group_max(tc[tin], tday[tin], n),
        f.group_max(lc[reply], lday[reply], n),
    )
    last_email = f.group_max(lc[to_partner], lday[to_partner], n)
    # RULES.md, nurture: a survey email is not a touch for the check-in clock, else
    # surveys would crowd out check-ins.
    not_survey = to_partner & (L.action != Kind.SURVEY)
    others = f.nanmax(
        last_inbound,
        f.group_max(rc, rday, n),
        f.group_max(tc, tday, n),
        f.group_max(lc[emailed], lday[emailed], n),
    )
    last_touch = f.nanmax(others, last_email)
    checked_in_base = f.nanmax(others, f.group_max(lc[not_survey], lday[not_survey], n))
    first_touch = f.nanmin(
        f.group_min(rc, rday, n),
        f.group_min(tc, tday, n),
        f.group_min(lc[to_partner], lday[to_partner], n),
    )
    start = np.where(np.isnan(found["first_contact"]), first_touch, found["first_contact"])
    chasers = known & np.isin(L.action, [Kind.NURTURE, Kind.FOLLOW_UP]) & L.sent_mask
    unanswered = chasers & ~(lday <= np.nan_to_num(f.at_codes(last_inbound, lc), nan=-np.inf))
    skipped_nurture = known & (L.action == Kind.NURTURE) & (L.status == Status.SKIPPED)
    surveyed = known & (L.action == Kind.SURVEY) & L.sent_mask
    nurtured = known & (L.action == Kind.NURTURE) & L.sent_mask
    return {
        "last_nurture": f.group_max(lc[nurtured], lday[nurtured], n),
        "nurtures_sent": f.group_sum(lc[nurtured], None, n),
        "surveys_sent": f.group_sum(lc[surveyed], None, n),
        "last_inbound": last_inbound,
        "last_email": last_email,
        "last_touch": last_touch,
        "age": T - start,
        "unanswered": f.group_sum(lc[unanswered], None, n),
        "nurture_base": f.nanmax(
            checked_in_base, f.group_max(lc[skipped_nurture], lday[skipped_nurture], n)
        ),
        "last_survey": f.group_max(lc[surveyed], lday[surveyed], n),
    }


def _survey(
    tables: Tables, options: DecideOptions, found: dict[str, Any], T: int
) -> dict[str, Any]:
    """The partner's latest view within a year, and when they last answered at all."""
    n = found["n"]
    view, _ = f.survey_table(
        tables.survey, found["emails"], found["owner"], options.sender_email.lower(), T
    )
    recent = view[view["age"] <= 365]
    # Each partner's latest response (by moment; of two at once, the later row): the
    # last of its partner's run once sorted stably by partner, then moment.
    codes = recent["code"].to_numpy()
    order = np.lexsort((recent["moment"].to_numpy(), codes))
    ordered = codes[order]
    latest = order[np.r_[ordered[1:] != ordered[:-1], True]] if len(order) else order
    at = codes[latest]
    out = {k: np.full(n, np.nan) for k in ("survey_avg", "survey_day", "survey_low")}
    out["survey_avg"][at] = recent["avg"].to_numpy()[latest]
    out["survey_day"][at] = recent["day"].to_numpy()[latest]
    out["survey_low"][at] = recent["low"].to_numpy()[latest]
    out["survey_low_item"] = np.full(n, "", dtype=object)
    out["survey_low_item"][at] = recent["low_item"].to_numpy()[latest]
    answered = view["code"].to_numpy() >= 0
    out["last_answer"] = f.group_max(
        view["code"].to_numpy()[answered], view["day"].to_numpy()[answered], n
    )
    return out


def _surveys_unanswered(L: f.LogView, found: dict[str, Any]) -> np.ndarray:
    """Surveys sent after the partner's last inbound and last survey answer (RULES.md,
    `survey_stop_after_unanswered`): engaging in any way starts the count again."""
    known = L.code >= 0
    surveyed = known & (L.action == Kind.SURVEY) & L.sent_mask
    engaged = f.nanmax(found["last_inbound"], found["last_answer"])
    after = L.day > np.nan_to_num(f.at_codes(engaged, L.code), nan=-np.inf)
    return f.group_sum(L.code[surveyed & after], None, found["n"])


def _outreach(L: f.LogView, found: dict[str, Any]) -> dict[str, Any]:
    """The latest outreach (and its thread), the follow-ups since, inbound since."""
    n, known = found["n"], L.code >= 0
    outreach = known & (L.action == Kind.OUTREACH) & L.sent_mask
    outreach_day = f.group_max(L.code[outreach], L.day[outreach], n)
    thread = pd.DataFrame(
        {
            "c": L.code[outreach],
            "d": L.day[outreach],
            "m": L.message_id[outreach],
            "s": L.subject[outreach],
        }
    )
    thread = thread.sort_values(["c", "d"], kind="stable").drop_duplicates("c", keep="last")
    thread = thread.set_index("c").reindex(range(n))
    fu = known & (L.action == Kind.FOLLOW_UP) & L.handled_mask
    since = fu & (L.day >= np.nan_to_num(f.at_codes(outreach_day, L.code), nan=np.inf))
    return {
        "outreach_day": outreach_day,
        "thread_message_id": thread["m"].fillna("").to_numpy(dtype=object),
        "thread_subject": thread["s"].fillna("").to_numpy(dtype=object),
        "fu_n": f.group_sum(L.code[since], None, n),
        "last_fu": f.group_max(L.code[since], L.day[since], n),
        "inbound_since": found["last_inbound"] >= outreach_day,
    }
