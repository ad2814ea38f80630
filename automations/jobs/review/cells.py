"""The Review tab's `decision` cells (SHEET.md, Review; EMAIL.md, "Review before
sending"): read by proposal id, conflicts and past dates said, and a decision typed into the
local toolkit file reported rather than lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from automations.config import Settings
from automations.core.render import plain
from automations.core.review import (
    OPEN,
    Decision,
    Proposal,
    about,
    decision_of_cell,
    repaired_header,
    row_pid,
)
from automations.core.tables import normalise_header
from automations.jobs.session import Session


def sheet_decisions(
    s: Session, settings: Settings, proposals: Sequence[Proposal], today: dt.date
) -> tuple[dict[str, Decision], list[str]]:
    """The `decision` cells of the Google Sheet's Review tab, by proposal: each row names
    its proposal by id (SHEET.md, Review), so a cell never passes to a later proposal.
    Rows that disagree on one proposal, or a cell that contradicts an approval made in the
    terminal or by reply, are a conflict: it does not go until decided again."""
    title = settings.sheet.tabs.review
    rows = s.raw.tabs.get(title) or []
    header = repaired_header([normalise_header(h) for h in rows[0]]) if rows else []
    if "decision" not in header:
        return {}, []
    if settings.sheet.backend != "google":
        return {}, typed_in_toolkit_file(settings, rows, header, proposals)
    order = s.raw.date_order or "YMD"
    by_pid = {p.pid: p for p in proposals}
    earlier = {(p.keys_cell, p.proposed_at[:10]): p.pid for p in proposals}
    said: dict[str, dict[Decision, list[int]]] = {}
    notes: list[str] = []
    for n, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, row, strict=False))
        value = cells.get("decision")
        p = by_pid.get(row_pid(cells, earlier, order))
        if p is None or value in ("", None) or p.status not in OPEN:
            continue
        decision = decision_of_cell(value, order)
        if decision is None:
            notes.append(
                f"{title}!{n} decision: {value!r} is not send, skip or a date; that proposal waits"
            )
        elif decision.until is not None and decision.until <= today:
            notes.append(
                f"{title}!{n} decision: {decision.until} is past; write a later day, send or "
                f"skip; the {about(p)} waits"
            )
        else:
            said.setdefault(p.ident, {}).setdefault(decision, []).append(n)
    out: dict[str, Decision] = {}
    for ident, found in said.items():
        p = proposals_by_ident(proposals)[ident]
        decision = next(iter(found))
        elsewhere = p.status == "approved" and p.detail not in ("approved", "approved ")
        if len(found) > 1 or (elsewhere and decision.verb != "send"):
            where = ", ".join(f"{title}!{n}" for ns in found.values() for n in ns)
            notes.append(
                f"conflict: {where} and {p.detail or 'the decisions'} disagree on the "
                f"{about(p)}; it is not sent until you decide again"
            )
            decision = Decision("wait")
        out[ident] = decision
    return out, notes


def typed_in_toolkit_file(
    settings: Settings, rows: list[list[Any]], header: list[str], proposals: Sequence[Proposal]
) -> list[str]:
    """With a local workbook the Review tab is in the toolkit's own file, rewritten every
    run (SHEET.md): a decision typed there is said, never applied nor lost unseen."""
    title = settings.sheet.tabs.review
    by_pid = {p.pid: p for p in proposals}
    notes = []
    for n, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, row, strict=False))
        value = cells.get("decision")
        if value in ("", None):
            continue
        p = by_pid.get(str(cells.get("proposal") or "").strip())
        key = p.keys[0] if p else str(cells.get("keys") or "KEY").split(" ")[0]
        what = f"the {about(p)}" if p else "a proposal"
        notes.append(
            f"{title}!{n} of the toolkit file: the decision {plain(value)!r} for {what} was not "
            "applied (that file is the toolkit's, rewritten each run); decide with "
            f"`partners review --send {key}` (or --skip, --later) or by reply to the review email"
        )
    return notes


def proposals_by_ident(proposals: Sequence[Proposal]) -> dict[str, Proposal]:
    """The proposals by ident."""
    return {p.ident: p for p in proposals}
