"""Everything printed for people: Health as a table, CSV or JSON; what a run did; problems.

The modules by idea: `tables` (Health, the survey report), `outgoing` (the emails of a
run), `runs` (what a run did), `records` (one record per email), `review` (approvals),
`progress` (the sending bar) and `problems` (what a person must act on)."""

from __future__ import annotations

from automations.console.outgoing import count_by_kind, plan_table, preview_text
from automations.console.problems import delivery_warnings, nurture_warnings, problem_line
from automations.console.progress import SendingProgress
from automations.console.records import email_records, records_as
from automations.console.review import (
    OLD_PROPOSAL_DAYS,
    REVIEW_PROMPT,
    approved_lines,
    old_proposals,
    proposal_block,
    proposals_table,
    recorded_line,
    review_lines,
)
from automations.console.runs import (
    BASELINE_SHOWN,
    campaign_lines,
    demo_hint,
    inbox_line,
    nurture_lines,
)
from automations.console.tables import (
    TABLE_ROWS,
    as_csv,
    as_json,
    as_table,
    render_table,
    survey_report,
)

__all__ = [
    "BASELINE_SHOWN",
    "OLD_PROPOSAL_DAYS",
    "REVIEW_PROMPT",
    "TABLE_ROWS",
    "SendingProgress",
    "approved_lines",
    "as_csv",
    "as_json",
    "as_table",
    "campaign_lines",
    "count_by_kind",
    "delivery_warnings",
    "demo_hint",
    "email_records",
    "inbox_line",
    "nurture_lines",
    "nurture_warnings",
    "old_proposals",
    "plan_table",
    "preview_text",
    "problem_line",
    "proposal_block",
    "proposals_table",
    "recorded_line",
    "records_as",
    "render_table",
    "review_lines",
    "survey_report",
]
