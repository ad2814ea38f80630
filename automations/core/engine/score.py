"""The score of RULES.md, its tier and check-in cadence, today and on any later day.

Between today and a later day nothing in the sheet changes but time: every referral's
weight halves each 180 days (so r and g shrink by the same factor and the balance B stays),
engagement halves each 90 days, and the survey counts while it is under a year old. That is
what lets a check-in's `next_due` follow the same rule as "due today".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from automations.core.engine.rules import Rules

if TYPE_CHECKING:
    from automations.core.engine.facts import Facts


def score_parts(
    r: np.ndarray, g: np.ndarray, inbound_age: np.ndarray, survey_avg: np.ndarray
) -> np.ndarray:
    """The score of RULES.md from weighted referral sums, inbound age and survey average."""
    big_r = 1 - np.exp(-r / 3)
    big_g = 1 - np.exp(-g / 3)
    total = r + g
    with np.errstate(all="ignore"):
        balance = np.where(total > 0, 1 - np.abs(r - g) / total, 0.0)
    engagement = np.where(np.isnan(inbound_age), 0.0, 0.5 ** (inbound_age / 90))
    survey = np.where(np.isnan(survey_avg), 0.5, (survey_avg - 1) / 8)
    raw = 100 * (0.45 * big_r + 0.15 * big_g + 0.15 * balance + 0.15 * engagement + 0.10 * survey)
    return np.round(raw, 1)


def tier_of(score: np.ndarray, rules: Rules) -> np.ndarray:
    """A, B or C by the score thresholds."""
    return np.where(
        score >= rules.tier_a_score, "A", np.where(score >= rules.tier_b_score, "B", "C")
    ).astype(object)


def cadence_on(tier: np.ndarray, cadence_set: np.ndarray, rules: Rules) -> np.ndarray:
    """Days between check-ins: the partner's own `cadence_days`, else the tier's."""
    by_tier = np.select(
        [tier == "A", tier == "B"],
        [rules.cadence_a_days, rules.cadence_b_days],
        rules.cadence_c_days,
    )
    return np.where(np.isnan(cadence_set), by_tier, cadence_set)


def score_on(F: Facts, day: np.ndarray) -> np.ndarray:
    """Each partner's score on `day` (day numbers, per partner) if the sheet stays as it is."""
    later = np.nan_to_num(day - F.T, nan=0.0)
    decay = 0.5 ** (later / 180)
    survey_avg = np.where(day - F.survey_day <= 365, F.survey_avg, np.nan)
    return score_parts(F.r * decay, F.g * decay, day - F.last_inbound, survey_avg)


def cadence_for(F: Facts, day: np.ndarray, rules: Rules) -> np.ndarray:
    """Each partner's check-in cadence on `day`, with the tier the score will have then."""
    return cadence_on(tier_of(score_on(F, day), rules), F.cadence_set, rules)
