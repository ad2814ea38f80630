"""The thresholds of RULES.md, each with its default; `[rules]` in the config sets them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    """Every threshold of RULES.md, with its default."""

    escalate_within_days: int = 60
    stale_referral_days: int = 14
    low_rating: int = 3
    low_average: float = 5.0
    thank_within_days: int = 30
    outcome_within_days: int = 30
    follow_up_after_days: int = 6
    follow_up_within_days: int = 30
    max_follow_ups: int = 1
    fade_after_days: int = 365
    fade_after_unanswered: int = 2
    survey_min_age_days: int = 90
    survey_min_days_between: int = 60
    survey_escalate_within_days: int = 90
    survey_stop_after_unanswered: int = 2
    spread_days: int = 7
    survey_spread_weeks: int = 6
    last_note_after_days: int = 180
    min_days_between_emails: int = 7
    tier_a_score: float = 60.0
    tier_b_score: float = 30.0
    cadence_a_days: int = 45
    cadence_b_days: int = 90
    cadence_c_days: int = 180


@dataclass(frozen=True)
class StatementSettings:
    """`[statement]`: how often the referral statement goes (RULES.md, Statements)."""

    every: str = "quarter"  # or "none": no statements
