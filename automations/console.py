"""Everything printed for people: Health as a table, CSV or JSON; what a run did; problems."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import pandas as pd

from automations.core.engine.decisions import HEALTH_COLUMNS
from automations.core.tables import Problem
from automations.jobs.wiring import mail_capabilities

if TYPE_CHECKING:
    from automations.config import Settings
    from automations.jobs.campaign import CampaignResult
    from automations.jobs.inbox import InboxOutcome
    from automations.jobs.nurture import NurtureResult
    from automations.jobs.sending import DeliveryReport, Prepared


def _json_ready(health: pd.DataFrame) -> list[dict[str, object]]:
    frame = health[list(HEALTH_COLUMNS)].copy()
    for name in ("last_touch", "next_due"):
        frame[name] = frame[name].dt.strftime("%Y-%m-%d")
    frame = frame.astype(object).where(pd.notna(frame), None)
    records: list[dict[str, object]] = frame.to_dict(orient="records")  # type: ignore[assignment]
    for record in records:
        for key, value in record.items():
            if hasattr(value, "item"):
                record[key] = value.item()
    return records


def as_json(health: pd.DataFrame) -> str:
    """A JSON array, one object per Health row; dates as YYYY-MM-DD, empty as null."""
    return json.dumps(_json_ready(health), ensure_ascii=False, indent=2)


def as_csv(health: pd.DataFrame) -> str:
    """Health as CSV with the Health column names."""
    frame = health[list(HEALTH_COLUMNS)].copy()
    for name in ("last_touch", "next_due"):
        frame[name] = frame[name].dt.strftime("%Y-%m-%d")
    return frame.to_csv(index=False)


def as_table(health: pd.DataFrame, width: int | None = None) -> str:
    """A readable table: action, partner, tier, score, next due and the reason."""
    width = width or shutil.get_terminal_size((160, 24)).columns
    if health.empty:
        return "No partners yet: add rows to the Partners tab."
    cols = {
        "action": health["action"].astype(str),
        "partner": health["name"].astype(str),
        "email": health["email"].astype(str),
        "tier": health["tier"].astype(str),
        "score": health["score"].map(lambda s: f"{s:.1f}"),
        "next due": health["next_due"].dt.strftime("%Y-%m-%d").fillna(""),
    }
    widths = {k: max(len(k), int(v.str.len().max())) for k, v in cols.items()}
    used = sum(widths.values()) + 2 * len(widths)
    reason_width = max(30, width - used)
    header = "  ".join(k.ljust(widths[k]) for k in cols) + "  reason"
    lines = [header, "-" * min(width, len(header) + reason_width - 6)]
    reasons = health["reason"].astype(str).tolist()
    for i, reason in enumerate(reasons):
        cells = "  ".join(cols[k].iloc[i].ljust(widths[k]) for k in cols)
        short = reason if len(reason) <= reason_width else reason[: reason_width - 1] + "…"
        lines.append(f"{cells}  {short}")
    counts = health["action"].value_counts()
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    lines.append("")
    lines.append(f"{len(health)} partners: {summary}")
    return "\n".join(lines)


def problem_line(problem: Problem) -> str:
    """One problem as the user reads it, with what was done about it."""
    if problem.severity == "error" and problem.row is not None:
        return f"{problem} (row skipped)"
    return str(problem)


def columns(headers: list[str], rows: list[list[str]], width: int | None = None) -> str:
    """Rows as aligned columns; the last column is cut to fit the terminal."""
    width = width or shutil.get_terminal_size((160, 24)).columns
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    fixed = sum(widths[:-1]) + 2 * (len(headers) - 1)
    last = max(30, width - fixed)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r[:-1], widths[:-1], strict=True)]
        tail = r[-1] if len(r[-1]) <= last else r[-1][: last - 1] + "…"
        lines.append("  ".join([*cells, tail]).rstrip())
    return "\n".join(lines)


def _count_by_kind(items: list[Prepared]) -> str:
    kinds: dict[str, int] = {}
    for p in items:
        kinds[p.draft.kind] = kinds.get(p.draft.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in kinds.items())


def plan_table(items: list[Prepared]) -> str:
    """What goes (or would go): kind, to, subject and why."""
    rows = [[p.draft.kind, p.draft.to_email, p.subject, p.draft.why or "-"] for p in items]
    return columns(["kind", "to", "subject", "why"], rows)


def nurture_lines(result: NurtureResult, settings: Settings, quiet: bool = False) -> list[str]:
    """What a nurture run did, for people (standard output)."""
    lines: list[str] = []
    opts = result.options
    if opts.baseline:
        lines.append(
            f"Baseline: {result.baseline_emails} due email(s) ({len(result.baseline)} item(s)) "
            "recorded as handled without sending; from now on only new ones are emailed."
        )
    elif not opts.send:
        if result.to_send:
            lines.append(plan_table(result.to_send))
            lines.append("")
        lines.append(
            f"Dry run: {len(result.to_send)} email(s) would be {mail_capabilities(settings).verb}"
            + (f" ({_count_by_kind(result.to_send)})" if result.to_send else "")
            + ". Nothing was sent or written; add --send to do it."
        )
    elif not (result.report and result.report.outcomes) and not result.faults:
        verb = "sent" if mail_capabilities(settings).delivers else "written"
        lines.append(f"Nothing is due: no email {verb}.")
    else:
        outcomes = result.report.outcomes if result.report else []
        done = [p for p, d in outcomes if d.status in ("sent", "written")]
        if done and not quiet:
            lines.append(plan_table(done))
            lines.append("")
        if not mail_capabilities(settings).delivers:
            lines.append(
                f"Wrote {len(done)} email(s) to {settings.mail.outbox_dir}/"
                + (f" ({_count_by_kind(done)})" if done else "")
                + ": nothing left this machine."
            )
            for _p, d in outcomes:
                if d.status == "written" and not quiet:
                    lines.append(f"  {d.detail}")
        else:
            lines.append(
                f"Sent {len(done)} email(s)" + (f" ({_count_by_kind(done)})" if done else "") + "."
            )
    if result.inbox is not None and not result.inbox.error:
        lines.append(inbox_line(result.inbox))
    if result.held:
        lines.append(
            f"{len(result.held)} more email(s) are due and wait for the next run "
            f"({result.held_by})."
        )
    if result.wrote:
        lines.append(f"Health written ({len(result.decisions.health)} rows).")
    return lines


def nurture_warnings(result: NurtureResult) -> list[str]:
    """What needs a person's attention (standard error)."""
    lines = [*result.warnings]
    for e in result.recovered:
        lines.append(f"uncertain: {e.key} ({e.detail})")
    return lines + delivery_warnings(result.faults, result.report, result.write_error)


def delivery_warnings(
    faults: list[str], delivery: DeliveryReport | None, write_error: str
) -> list[str]:
    """Template faults, failed and uncertain sends, a stop, a sheet that was not written."""
    lines = list(faults)
    if delivery:
        for p, d in delivery.outcomes:
            if d.status == "failed":
                lines.append(f"failed: {p.draft.kind} to {p.draft.to_email}: {d.detail}")
            elif d.status == "uncertain":
                keys = ", ".join(p.draft.keys)
                lines.append(
                    f"uncertain: {p.draft.kind} to {p.draft.to_email} ({keys}): {d.detail}; "
                    "settle it with `partners resolve KEY --sent` or `--retry`"
                )
        for p in delivery.refused_again:
            elsewhere = delivery.foreign.intersection(p.draft.keys)
            lines.append(
                f"not sent again: {p.draft.kind} to {p.draft.to_email}: the journal already "
                "records it as sent, pending or uncertain"
                + (
                    " for another sheet this project used before; `partners carry-over` "
                    "brings that history into this sheet's Log"
                    if elsewhere
                    else ""
                )
            )
        lines += delivery.unbuilt
        if delivery.fatal:
            lines.append(f"stopped: {delivery.fatal}; the rest stays due for the next run")
    if write_error:
        lines.append(write_error)
        if delivery:
            lines += _sent_before_write_error(delivery)
    return lines


def _sent_before_write_error(delivery: DeliveryReport) -> list[str]:
    """What left before the sheet could not be written: the user must know it went."""
    gone = [(p, d) for p, d in delivery.outcomes if d.status in ("sent", "written", "uncertain")]
    if not gone:
        return ["nothing was sent before this"]
    lines = [
        f"{len(gone)} email(s) went out before this and are recorded in the journal "
        "(state/journal.sqlite3); they go to the Log on the next run that can write, and are "
        "never sent again:"
    ]
    lines += [f"  {d.status}: {p.draft.kind} to {p.draft.to_email}" for p, d in gone]
    return lines


def campaign_lines(result: CampaignResult, settings: Settings, send: bool) -> list[str]:
    """What a campaign run found and did, for people."""
    a = result.audience
    lines = [
        f"Campaign {result.campaign.name} (template {result.campaign.template}): "
        f"{len(a.matching)} partner(s) match the audience; {len(a.already)} reached before; "
        f"{len(a.never)} never (blocked or declined); {len(a.waiting)} wait (emailed lately); "
        f"{len(a.due)} to reach."
    ]
    verb = mail_capabilities(settings).verb
    if not send:
        if result.to_send:
            lines += ["", plan_table(result.to_send), "", "One of them, as it would go:", ""]
            lines.append(preview_text(result.to_send[0]))
        lines.append(
            f"Dry run: {len(result.to_send)} email(s) would be {verb}. "
            "Nothing was sent or written; add --send to do it."
        )
    else:
        outcomes = result.report.outcomes if result.report else []
        done = [p for p, d in outcomes if d.status in ("sent", "written")]
        if done:
            lines += ["", plan_table(done), ""]
        lines.append(f"{len(done)} email(s) {verb}.")
    if result.held:
        lines.append(
            f"{len(result.held)} more partner(s) wait for the next run ({result.held_by})."
        )
    return lines


def inbox_line(inbox: InboxOutcome) -> str:
    """One line: what the inbox scan recorded."""
    c = inbox.counts
    found = f"{c['reply']} reply(ies), {c['bounce']} bounce(s), {c['unsubscribe']} unsubscribe(s)"
    unreadable = f"; {c['unreadable']} unreadable, skipped" if c["unreadable"] else ""
    return (
        f"Inbox: {found} read; {len(inbox.entries)} new in the Log; "
        f"{c['ignored']} other message(s) ignored{unreadable}."
    )


def survey_report(frame: pd.DataFrame, fmt: str = "table") -> str:
    """The survey report as a table, CSV or JSON (one object per partner)."""
    if fmt == "json":
        records = frame.astype(object).where(pd.notna(frame), None).to_dict(orient="records")
        return json.dumps(records, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return frame.to_csv(index=False).rstrip("\n")
    if frame.empty:
        return "No survey answers yet."
    rows = [
        [
            str(r["name"]),
            str(r["email"]),
            "-"
            if r["partner_avg"] is None or pd.isna(r["partner_avg"])
            else f"{r['partner_avg']:.1f}",
            "-" if r["self_avg"] is None or pd.isna(r["self_avg"]) else f"{r['self_avg']:.1f}",
            str(r["differ"] or "-"),
        ]
        for _, r in frame.iterrows()
    ]
    return columns(["partner", "email", "their avg", "your avg", "3+ points apart"], rows)


def preview_text(prepared: Prepared, html: bool = False) -> str:
    """Headers and one body part of a message, as a person reads it."""
    msg = prepared.message
    head = [f"{name}: {value}" for name, value in msg.items()]
    body = prepared.rendered.html if html else prepared.rendered.text
    return "\n".join(head) + "\n\n" + body
