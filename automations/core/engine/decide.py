"""`decide`: from typed tables, today and the rules to one decision per partner.

Pure and vectorised: whole-table numpy/pandas steps, no per-row loop over
referrals, touches or the log, no clock and no I/O. See RULES.md.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from automations.core.engine import facts as f
from automations.core.engine.decisions import (  # noqa: F401 (re-exported: callers import them from here)
    ACTION_ORDER,
    HEALTH_COLUMNS,
    DecideOptions,
    Decisions,
    score_parts,
)
from automations.core.engine.due import due_emails
from automations.core.engine.reasons import explain
from automations.core.engine.rules import Rules
from automations.core.tables import Tables


def sort_health(health: pd.DataFrame) -> pd.DataFrame:
    """Health in RULES.md order: action priority, then score descending, then email."""
    rank = health["action"].map({a: i for i, a in enumerate(ACTION_ORDER)})
    health = health.assign(_rank=rank.to_numpy(), _neg=-health["score"])
    health = health.sort_values(["_rank", "_neg", "email"], kind="stable").drop(
        columns=["_rank", "_neg"]
    )
    return health.reset_index(drop=True)


def decide(tables: Tables, today: dt.date, rules: Rules, options: DecideOptions) -> Decisions:
    """Decide what each relationship needs today. Same input, same output."""
    T = f.day_number(today)
    P = tables.partners.reset_index(drop=True)
    n = len(P)
    emails = pd.Index(P["email"])
    email_arr = P["email"].to_numpy(dtype=object)
    sender = options.sender_email.lower()
    owners = np.where(
        P["owner"].to_numpy(dtype=object) == "", sender, P["owner"].to_numpy(dtype=object)
    )
    status = P["status"].to_numpy(dtype=object)
    first_contact = f.day_numbers(P["first_contact"])
    cadence_set = P["cadence_days"].to_numpy(dtype="float64")
    F: dict[str, np.ndarray] = {"T": np.full(n, T, dtype="float64")}

    # Referrals: weights, 12-month counts, fees, and which ones are due for an email.
    R = tables.referrals
    rc = emails.get_indexer(pd.Index(R["partner_email"]))
    rday = f.day_numbers(R["date"])
    rage = T - rday
    received = (R["direction"] == "received").to_numpy()
    won = (R["status"] == "won").to_numpy()
    weight = 0.5 ** (rage / 180)
    r = f.group_sum(rc[received], (weight * np.where(won, 2, 1))[received], n)
    g = f.group_sum(rc[~received], weight[~received], n)
    recent = rage < 365
    F["received_12m"] = f.group_sum(rc[received & recent], None, n)
    F["given_12m"] = f.group_sum(rc[~received & recent], None, n)
    value = np.nan_to_num(R["value"].to_numpy(dtype="float64"))
    F["won_value_12m"] = f.group_sum(rc[received & recent & won], value[received & recent & won], n)
    pct = P["referral_fee_pct"].to_numpy(dtype="float64")[rc] if len(rc) else np.zeros(0)
    owed = np.where(
        np.isnan(pct),
        0.0,
        value * np.nan_to_num(pct) / 100 - np.nan_to_num(R["fee_paid"].to_numpy(dtype="float64")),
    )
    F["fee_owed"] = np.round(f.group_sum(rc[received & won], owed[received & won], n), 2)
    F["last_referral"] = f.group_max(rc, rday, n)

    # The log: handled keys, emails sent, replies, bounces.
    L = f.log_view(tables.log, emails, options.count_written)
    lc, lday = L.code, L.day
    known = lc >= 0
    facing = np.isin(L.action, f.PARTNER_FACING)
    sent_to_partner = known & L.sent_mask & facing
    reply = known & (L.status == "reply")
    refused = known & (
        np.isin(L.status, ["bounce", "unsubscribe"])
        | (
            (L.status == "failed")
            & pd.Series(L.detail, dtype=object).astype(str).str.match(r"5\d\d").to_numpy()
        )
    )
    F["blocked_day"] = f.group_max(lc[refused], lday[refused], n)
    F["blocked_status"] = np.full(n, "", dtype=object)
    if refused.any():
        last_refusal = pd.DataFrame({"c": lc[refused], "d": lday[refused], "s": L.status[refused]})
        last_refusal = last_refusal.sort_values(["c", "d"]).drop_duplicates("c", keep="last")
        F["blocked_status"][last_refusal["c"].to_numpy()] = last_refusal["s"].to_numpy()

    # Touches and inbound.
    Tch = tables.touches
    tc = emails.get_indexer(pd.Index(Tch["partner_email"]))
    tday = f.day_numbers(Tch["date"])
    tin = (Tch["direction"] == "in").to_numpy()
    F["last_inbound"] = f.nanmax(
        f.group_max(rc[received], rday[received], n),
        f.group_max(tc[tin], tday[tin], n),
        f.group_max(lc[reply], lday[reply], n),
    )
    F["last_email"] = f.group_max(lc[sent_to_partner], lday[sent_to_partner], n)
    F["last_touch"] = f.nanmax(
        F["last_inbound"], f.group_max(rc, rday, n), f.group_max(tc, tday, n), F["last_email"]
    )
    first_touch = f.nanmin(
        f.group_min(rc, rday, n),
        f.group_min(tc, tday, n),
        f.group_min(lc[sent_to_partner], lday[sent_to_partner], n),
    )
    since = np.where(np.isnan(F["last_touch"]), first_contact, F["last_touch"])
    F["days_since_touch"] = T - since
    F["age"] = T - np.where(np.isnan(first_contact), first_touch, first_contact)

    # Survey: the partner's latest view scores; a low one escalates.
    partner_view, _ = f.survey_table(tables.survey, emails, owners, sender, T)
    latest = f.latest_per_partner(partner_view[partner_view["age"] <= 365], "moment")
    F["survey_avg"] = np.full(n, np.nan)
    F["survey_avg"][latest.index.to_numpy()] = latest["avg"].to_numpy()
    F["survey_day"] = np.full(n, np.nan)
    F["survey_day"][latest.index.to_numpy()] = latest["day"].to_numpy()
    F["survey_low"] = np.full(n, np.nan)
    F["survey_low"][latest.index.to_numpy()] = latest["low"].to_numpy()

    # Score and tier.
    F["score"] = score_parts(r, g, T - F["last_inbound"], F["survey_avg"])
    tier = np.where(
        F["score"] >= rules.tier_a_score, "A", np.where(F["score"] >= rules.tier_b_score, "B", "C")
    )
    tier_cadence = np.select(
        [tier == "A", tier == "B"],
        [rules.cadence_a_days, rules.cadence_b_days],
        rules.cadence_c_days,
    )
    F["cadence"] = np.where(np.isnan(cadence_set), tier_cadence, cadence_set)
    F["tier"] = tier.astype(object)

    handled = L.handled_keys

    # Escalations: stale referrals (either direction) and a low recent survey.
    stale = (
        (rage <= rules.escalate_within_days)
        & (rage > rules.stale_referral_days)
        & R["status"].isin(["new", "contacted"]).to_numpy()
    )
    rdir = R["direction"].to_numpy(dtype=object)
    riso = f.iso_dates(rday)
    esc_ref = f.unhandled(stale, "escalation:", [rdir, riso], rc, rday, email_arr, handled)
    low = (T - F["survey_day"] <= rules.survey_escalate_within_days) & (
        (F["survey_low"] <= rules.low_rating) | (F["survey_avg"] < rules.low_average)
    )
    s_codes = np.flatnonzero(low)
    s_keys = f.keys(
        "escalation:", email_arr[s_codes], "survey", f.iso_dates(F["survey_day"][s_codes])
    )
    s_new = ~pd.Index(s_keys).isin(handled) if len(s_keys) else np.zeros(0, dtype=bool)
    F["esc_survey"] = np.zeros(n, dtype=bool)
    F["esc_survey"][s_codes[s_new]] = True
    F["esc_referrals"] = f.group_sum(esc_ref["code"].to_numpy(), None, n)
    escalate = (F["esc_referrals"] > 0) | F["esc_survey"]

    # Thanks and outcomes for received referrals, matched by (partner, date).
    thank_rows = received & (rage >= 0) & (rage <= rules.thank_within_days)
    thanks = f.unhandled(thank_rows, "thank:", [riso], rc, rday, email_arr, handled)
    closed = f.day_numbers(R["closed_on"])
    out_rows = (
        received
        & R["status"].isin(["won", "lost"]).to_numpy()
        & (T - closed >= 0)
        & (T - closed <= rules.outcome_within_days)
    )
    outcomes = f.unhandled(out_rows, "outcome:", [riso], rc, rday, email_arr, handled)
    F["thank_n"] = f.group_sum(thanks["code"].to_numpy(), None, n)
    F["outcome_n"] = f.group_sum(outcomes["code"].to_numpy(), None, n)

    # Follow-ups: the latest outreach, follow-ups since, inbound since.
    outreach = known & (L.action == "outreach") & L.sent_mask
    F["outreach_day"] = f.group_max(lc[outreach], lday[outreach], n)
    thread = pd.DataFrame(
        {
            "c": lc[outreach],
            "d": lday[outreach],
            "m": L.message_id[outreach],
            "s": L.subject[outreach],
        }
    )
    thread = (
        thread.sort_values(["c", "d"], kind="stable")
        .drop_duplicates("c", keep="last")
        .set_index("c")
    )
    fu = known & (L.action == "follow_up") & L.handled_mask
    fu_after = fu & (lday >= np.nan_to_num(f.at_codes(F["outreach_day"], lc), nan=np.inf))
    F["fu_n"] = f.group_sum(lc[fu_after], None, n)
    F["last_fu"] = f.group_max(lc[fu_after], lday[fu_after], n)
    has_outreach = ~np.isnan(F["outreach_day"])
    inbound_since = has_outreach & (F["last_inbound"] >= F["outreach_day"])
    since_out = T - F["outreach_day"]
    follow_up = (
        np.isin(status, ["prospect", "contacted"])
        & has_outreach
        & (since_out >= rules.follow_up_after_days)
        & (since_out <= rules.follow_up_within_days)
        & ~inbound_since
        & (F["fu_n"] < rules.max_follow_ups)
        & ~(T - F["last_fu"] < rules.follow_up_after_days)
    )
    fu_keys = f.keys(
        "follow_up:", email_arr, f.iso_dates(F["outreach_day"]), (F["fu_n"] + 1).astype(int)
    )
    follow_up &= ~pd.Index(fu_keys).isin(handled)
    F["fu_key"] = fu_keys

    # Fade: long quiet, check-ins unanswered, no explicit cadence.
    chasers = known & np.isin(L.action, ["nurture", "follow_up"]) & L.sent_mask
    unanswered = chasers & ~(lday <= np.nan_to_num(f.at_codes(F["last_inbound"], lc), nan=-np.inf))
    F["unanswered"] = f.group_sum(lc[unanswered], None, n)
    fade = (
        np.isin(status, ["active", "contacted"])
        & (F["age"] >= rules.fade_after_days)
        & ~(T - F["last_referral"] < rules.fade_after_days)
        & (F["unanswered"] >= rules.fade_after_unanswered)
        & np.isnan(cadence_set)
    )

    # Survey and nurture, and the spacing that holds them back.
    quarter = f.quarter_label(today)
    survey_keys = f.keys("survey:", email_arr, quarter)
    surveyed = known & (L.action == "survey")
    F["last_survey"] = f.group_max(lc[surveyed & L.sent_mask], lday[surveyed & L.sent_mask], n)
    quarter_done = pd.Index(survey_keys).isin(handled)
    survey_open = (options.survey_enabled & (status == "active")) if n else np.zeros(0, dtype=bool)
    # A partner who answered (even unprompted) this quarter or lately is not asked again.
    answered = partner_view["code"].to_numpy() >= 0
    F["last_answer"] = f.group_max(
        partner_view["code"].to_numpy()[answered], partner_view["day"].to_numpy()[answered], n
    )
    q_first = f.day_number(f.quarter_start(today))
    survey = (
        survey_open
        & (F["age"] >= rules.survey_min_age_days)
        & ~quarter_done
        & ~(F["last_survey"] >= q_first)  # any `survey` row this quarter counts (RULES.md)
        & ~(T - F["last_survey"] < rules.survey_min_days_between)
        & ~(F["last_answer"] >= q_first)
        & ~(T - F["last_answer"] < rules.survey_min_days_between)
    )
    skipped_nurture = known & (L.action == "nurture") & (L.status == "skipped")
    cadence_base = f.nanmax(
        F["last_touch"], f.group_max(lc[skipped_nurture], lday[skipped_nurture], n)
    )
    F["nurture_base"] = cadence_base
    exhausted = ~has_outreach | (F["fu_n"] >= rules.max_follow_ups)
    quiet = np.where(has_outreach, ~inbound_since, np.isnan(F["last_inbound"]))
    nurture_open = (status == "active") | ((status == "contacted") & exhausted & quiet)
    base = np.where(np.isnan(cadence_base), first_contact, cadence_base)
    nurture_keys = f.keys(
        "nurture:",
        email_arr,
        np.where(np.isnan(cadence_base), "never", f.iso_dates(cadence_base)),
    )
    nurture = nurture_open & ~(T - base < F["cadence"]) & ~pd.Index(nurture_keys).isin(handled)
    held = T - F["last_email"] < rules.min_days_between_emails
    F["replied"] = (status == "contacted") & np.where(
        has_outreach, inbound_since, ~np.isnan(F["last_inbound"])
    )

    # One partner-facing action per partner, in priority order.
    dne = P["do_not_email"].to_numpy(dtype=bool)
    refused_addr = ~np.isnan(F["blocked_day"])
    error_blocked = emails.isin(list(tables.blocked))
    hard = dne | refused_addr | error_blocked
    soft = np.isin(status, ["paused", "faded", "declined"])
    thank = (F["thank_n"] > 0) & ~hard
    outcome = (F["outcome_n"] > 0) & ~hard
    open_ = ~hard & ~soft
    conditions = [
        thank,
        outcome,
        hard | soft,
        open_ & follow_up,
        open_ & fade,
        open_ & survey & ~held,
        open_ & nurture & ~held,
    ]
    choices = ["thank", "outcome", "blocked", "follow_up", "fade", "survey", "nurture"]
    partner_action = np.select(conditions, choices, "none").astype(object)
    F["waiting"] = np.where(
        (partner_action == "none") & open_ & survey & held,
        "survey",
        np.where((partner_action == "none") & open_ & nurture & held, "check-in", ""),
    ).astype(object)
    action = np.where(escalate, "escalate", partner_action).astype(object)
    F["partner_action"] = partner_action

    # When something will next fall due if nothing changes.
    spacing_until = F["last_email"] + rules.min_days_between_emails
    nurture_next = np.where(
        nurture_open & ~soft & ~hard, f.nanmax(base + F["cadence"], spacing_until), np.nan
    )
    q_next = f.day_number(f.next_quarter_start(today))
    survey_next = np.where(
        survey_open & ~soft & ~hard,
        f.nanmax(
            T - F["age"] + rules.survey_min_age_days,
            F["last_survey"] + rules.survey_min_days_between,
            F["last_answer"] + rules.survey_min_days_between,
            np.where(
                quarter_done | (F["last_answer"] >= q_first) | (F["last_survey"] >= q_first),
                q_next,
                np.nan,
            ),
            spacing_until,
        ),
        np.nan,
    )
    fu_next = np.where(
        np.isin(status, ["prospect", "contacted"])
        & has_outreach
        & ~inbound_since
        & (F["fu_n"] < rules.max_follow_ups)
        & ~hard,
        f.nanmax(
            F["outreach_day"] + rules.follow_up_after_days,
            F["last_fu"] + rules.follow_up_after_days,
        ),
        np.nan,
    )
    fu_next = np.where(fu_next <= F["outreach_day"] + rules.follow_up_within_days, fu_next, np.nan)
    pending_ref = R["status"].isin(["new", "contacted"]).to_numpy() & (
        rage <= rules.stale_referral_days
    )
    esc_next = f.group_min(rc[pending_ref], rday[pending_ref] + rules.stale_referral_days + 1, n)
    soonest = f.nanmin(nurture_next, survey_next, fu_next, esc_next)
    upcoming = np.where(np.isnan(soonest), np.nan, np.maximum(soonest, T + 1))
    due_now = np.isin(action, ["escalate", "thank", "outcome", "follow_up", "survey", "nurture"])
    next_due = np.where(
        due_now, T, np.where(np.isin(action, ["fade", "blocked"]), esc_next, upcoming)
    )
    F["next_due"] = next_due
    F["next_kind"] = np.select(
        [
            next_due == esc_next,
            next_due == fu_next,
            next_due == survey_next,
            next_due == nurture_next,
        ],
        ["escalation", "follow-up", "survey", "check-in"],
        "",
    ).astype(object)

    reasons = explain(
        P,
        F,
        action,
        partner_action,
        R,
        thanks,
        outcomes,
        esc_ref,
        dne,
        refused_addr,
        tables.blocked,
        rules,
    )

    health = pd.DataFrame(
        {
            "name": P["name"],
            "email": P["email"],
            "company": P["company"],
            "type": P["type"],
            "status": status,
            "owner": owners,
            "tier": F["tier"],
            "score": F["score"],
            "received_12m": F["received_12m"].astype("int64"),
            "given_12m": F["given_12m"].astype("int64"),
            "won_value_12m": np.round(F["won_value_12m"], 2),
            "last_touch": f.dates_of(F["last_touch"]),
            "days_since_touch": pd.array(
                np.where(np.isnan(F["last_touch"]), np.nan, T - F["last_touch"]), dtype="Int64"
            ),
            "survey_avg": np.round(F["survey_avg"], 2),
            "action": action,
            "reason": reasons,
            "next_due": f.dates_of(next_due),
            "fee_owed": F["fee_owed"],
            # Not a Health column: never to be emailed (do_not_email, bounced, refused,
            # unsubscribed, or a row error this run). Campaigns skip these partners.
            "hard_blocked": hard,
        }
    )
    health = sort_health(health)

    due = due_emails(
        email_arr,
        owners,
        partner_action,
        thanks,
        outcomes,
        esc_ref,
        s_codes[s_new],
        s_keys[s_new],
        fu_keys,
        survey_keys,
        nurture_keys,
        thread,
        F,
    )
    return Decisions(health=health, emails=due)
