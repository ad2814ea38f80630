"""The plans of the sending commands (ARCHITECTURE.md, "The second step"): each is a
function from the run's context to drafts and a scope (`planned.Plan`); the send pipeline
(`jobs/pipeline.py`) does the rest. A new sending command adds its module here and its
plan to `PLANS`; a campaign's plan is made per file (`campaign.plan_of`)."""

from __future__ import annotations

from automations.jobs.plans import digest, nurture, statement, survey
from automations.jobs.plans.planned import Plan

PLANS: dict[str, Plan] = {
    "nurture": nurture.plan,
    "survey": survey.plan,
    "digest": digest.plan,
    "statement": statement.plan,
}
