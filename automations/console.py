"""Everything printed for people: Health as a table, CSV or JSON; what a run did; problems."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from automations.core.engine.decisions import HEALTH_COLUMNS
from automations.core.review import about
from automations.core.tables import Problem
from automations.jobs.wiring import mail_capabilities

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from automations.config import Settings
    from automations.core.review import Decision, Proposal
    from automations.jobs.inbox import InboxOutcome
    from automations.jobs.pipeline import RunResult
    from automations.jobs.plans.campaign import CampaignPlanned
    from automations.jobs.plans.planned import Planned
    from automations.jobs.review.run import ReviewRun
    from automations.jobs.sending import DeliveryReport, Outgoing

    NurtureResult = RunResult[Planned]
    CampaignResult = RunResult[CampaignPlanned]


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


def render_table(headers: list[str], rows: list[list[str]], width: int | None = None) -> str:
    """Rows as a table that wraps long cells instead of cutting them, also when the output
    is not a terminal (a pipe, cron's mail): rich lays it out to the terminal's width."""
    from rich import box  # here: the commands that print no table start faster
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    width = width or shutil.get_terminal_size((120, 24)).columns
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()).strip("\n")


def _day(value: object) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, pd.Timestamp) else ""


def _score(value: object) -> str:
    """The score with one decimal; blank for a `fix row`, which has none."""
    return f"{value:.1f}" if isinstance(value, float) and value == value else ""


TABLE_ROWS = 200  # a terminal table longer than this is read by nobody; csv/json list all


def as_table(health: pd.DataFrame, width: int | None = None, limit: int = TABLE_ROWS) -> str:
    """A readable table: action, partner, tier, score, next due and the whole reason; the
    first `limit` partners in Health's order (what needs doing first), then a count."""
    if health.empty:
        return "No partners yet: add rows to the Partners tab."
    shown = health.head(limit)
    rows = [
        [
            str(r.action),
            str(r.name),
            str(r.email),
            str(r.tier),
            _score(r.score),
            _day(r.next_due),
            str(r.reason),
        ]
        for r in shown.itertuples(index=False)
    ]
    headers = ["action", "partner", "email", "tier", "score", "next due", "reason"]
    counts = health["action"].value_counts()
    summary = ", ".join(f"{n} {a}" for a, n in counts.items())
    more = ""
    if len(health) > len(shown):
        more = (
            f"\n(the first {len(shown)} shown; every partner is in the Health tab, and "
            "`partners health --format csv` lists them all)"
        )
    return f"{render_table(headers, rows, width)}\n\n{len(health)} partners: {summary}{more}"


def problem_line(problem: Problem) -> str:
    """One problem as the user reads it, with what was done about it; `partners:` first, as
    on every line a person must act on (CLI.md: cron users filter on it)."""
    if problem.kept:
        return f"partners: {problem} (the partner is in Health as `fix row`: no email until fixed)"
    if problem.severity == "error" and problem.row is not None:
        return f"partners: {problem} (row skipped)"
    return f"partners: {problem}"


def _count_by_kind(items: list[Outgoing]) -> str:
    kinds: dict[str, int] = {}
    for p in items:
        kinds[p.draft.kind] = kinds.get(p.draft.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in kinds.items())


def plan_table(items: list[Outgoing]) -> str:
    """What goes (or would go): kind, to, subject and why."""
    rows = [[p.draft.kind, p.draft.to_email, p.subject, p.draft.why or "-"] for p in items]
    return render_table(["kind", "to", "subject", "why"], rows)


BASELINE_SHOWN = 40


def nurture_lines(result: NurtureResult, settings: Settings, quiet: bool = False) -> list[str]:
    """What a nurture run did, for people (standard output)."""
    lines: list[str] = []
    opts = result.options
    if result.baselined:
        lines.append(
            f"Baseline: {result.baseline_emails} due email(s) ({len(result.baseline)} item(s)) "
            "recorded as handled without sending; from now on only new ones are emailed."
        )
        # Each item by name: what is marked handled is never sent, so the user sees all of it
        # (more than the dry run showed: what one email per partner hid behind another).
        shown = result.baseline[:BASELINE_SHOWN]
        lines += [f"  {e.action.replace('_', '-')} to {e.partner_email}: {e.key}" for e in shown]
        if len(result.baseline) > BASELINE_SHOWN:
            more = len(result.baseline) - BASELINE_SHOWN
            lines.append(f"  … and {more} more (the Log lists every one, status `skipped`)")
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
    lines += review_lines(result.review, settings)
    if not opts.send and result.reviewable:
        lines.append(
            f"{result.reviewable} of these wait for your approval ([mail] review): a --send "
            "run proposes them (Review tab, `partners review`, the review email) instead."
        )
    if not opts.send and result.waiting:
        lines.append(
            f"{len(result.waiting)} email(s) already wait for your approval (`partners review`, "
            "the Review tab or a reply to the review email decides them):"
        )
        lines += [f"  {line}" for line in result.waiting_said]
    if result.inbox is not None and not result.inbox.error:
        lines.append(inbox_line(result.inbox, recorded=opts.send))
    if result.held:
        lines.append(
            f"{len(result.held)} more email(s) are due and wait for the next run "
            f"({result.held_by})."
        )
    if result.wrote:
        lines.append(f"Health written ({len(result.decisions.health)} rows).")
    return lines


def email_records(result: NurtureResult) -> list[dict[str, object]]:
    """One record per email the run would send or sent (kind, to, subject, reason, keys,
    status): `due` in a dry run, else what became of it; `waits` for one a cap held back."""
    outcome = {id(p): d for p, d in (result.report.outcomes if result.report else [])}
    refused = {id(p) for p in (result.report.refused_again if result.report else [])}
    records: list[dict[str, object]] = []
    for p in result.to_send:
        delivery = outcome.get(id(p))
        if delivery is not None:
            status, detail = delivery.status, delivery.detail
        elif id(p) in refused:
            status, detail = "not sent again", "the journal already has it"
        else:
            status, detail = ("due", "") if not result.options.send else ("not sent", "")
        records.append(
            {
                "kind": p.draft.kind,
                "to": p.draft.to_email,
                "subject": p.subject,
                "reason": p.draft.why,
                "keys": list(p.draft.keys),
                "status": status,
                "detail": detail,
            }
        )
    for w in result.waiting:  # a dry run: proposed earlier, not due again
        records.append(
            {
                "kind": w.kind,
                "to": w.to_email,
                "subject": w.subject,
                "reason": w.why,
                "keys": list(w.keys),
                "status": "waiting",
                "detail": f"waits for your approval since {w.proposed_at[:10]}"
                if w.status == "waiting"
                else w.status_cell,
            }
        )
    for d in result.held:
        records.append(
            {
                "kind": d.kind,
                "to": d.to_email,
                "subject": d.subject,
                "reason": d.why,
                "keys": list(d.keys),
                "status": "waits",
                "detail": f"held for the next run ({result.held_by})",
            }
        )
    return records


def records_as(records: list[dict[str, object]], fmt: str) -> str:
    """Records as a JSON array, or CSV with one row each (keys joined by spaces)."""
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    out = io.StringIO()
    names = ["kind", "to", "subject", "reason", "keys", "status", "detail"]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for record in records:
        keys = record["keys"]
        joined = " ".join(str(k) for k in keys) if isinstance(keys, list) else str(keys)
        writer.writerow({**record, "keys": joined})
    return out.getvalue().rstrip("\n")


class SendingProgress:
    """A progress bar on standard error while a run sends more than a handful of emails:
    the count, the last recipient and the time left (pacing can make a run last minutes).
    Silent with `-q` and for a handful; in a pipe or cron, rich prints only the last state."""

    def __init__(self, quiet: bool, from_count: int) -> None:
        self.quiet, self.from_count = quiet, from_count
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int, prepared: Outgoing, delivery: object) -> None:
        """Called after each message (the Progress hook of `jobs.sending.deliver`)."""
        if self.quiet or total < self.from_count:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[to]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("sending", total=total, to="")
        assert self._task is not None
        self._bar.update(self._task, completed=done, to=prepared.draft.to_email)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Stop drawing (also when a run stops early)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def demo_hint(result: NurtureResult, settings: Settings) -> str:
    """`make demo`'s last line: what to open, or that nothing was due (CLI.md)."""
    written = [
        p for p, d in (result.report.outcomes if result.report else []) if d.status == "written"
    ]
    waiting = result.review.waiting if result.review else []
    if waiting:
        return (
            f"{len(waiting)} partner email(s) wait for your approval: `.venv/bin/partners review` "
            "shows each as the partner would read it and asks send, skip or later. "
            f"What was written is in {settings.mail.outbox_dir}/ (open a .eml with your mail program)."
        )
    if written:
        return (
            f"Open any of the {len(written)} .eml file(s) just written to "
            f"{settings.mail.outbox_dir}/ with your mail program to see it as the partner would."
        )
    return (
        "Nothing was due, so no email was written (a second `make demo` the same day writes "
        "nothing: nothing goes twice). Earlier emails are in "
        f"{settings.mail.outbox_dir}/."
    )


def nurture_warnings(result: NurtureResult) -> list[str]:
    """What needs a person's attention (standard error)."""
    lines = [*result.sign_in_notes, *result.warnings]
    if result.inbox is not None:
        lines += result.inbox.warnings
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
    a, campaign = result.planned.audience, result.planned.campaign
    lines = [
        f"Campaign {campaign.name} (template {campaign.template}): "
        f"{len(a.matching)} partner(s) match the audience; {len(a.already)} reached before; "
        f"{len(a.never)} never (blocked or declined); {len(a.waiting)} wait (emailed lately "
        f"or snoozed); {len(a.due)} to reach."
    ]
    lines += [f"  {email}: {why}" for email, why in a.waiting.items() if why.startswith("snoozed")]
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
    lines += review_lines(result.review, settings)
    if result.held:
        lines.append(
            f"{len(result.held)} more partner(s) wait for the next run ({result.held_by})."
        )
    return lines


def proposals_table(proposals: list[Proposal]) -> str:
    """The proposals waiting for approval, one each, with the keys that decide them on a
    line of their own (never wrapped, so they can be copied)."""
    lines = []
    for n, p in enumerate(proposals, start=1):
        lines.append(
            f"{n}. {p.kind.replace('_', '-')} to {p.to_name or p.to_email} <{p.to_email}>, "
            f"proposed {p.proposed_at[:10]}, {p.status_cell}: “{p.subject}”"
        )
        lines += [f"   key: {key}" for key in p.keys]
    return "\n".join(lines)


def proposal_block(p: Proposal, number: int, count: int, as_sent: str) -> str:
    """One proposal in `partners review`: what, to whom, why, then the email as it goes."""
    rule = "─" * 72
    return (
        f"{rule}\n[{number}/{count}] {p.kind.replace('_', '-')} to {p.to_name or p.to_email}, "
        f"proposed {p.proposed_at[:10]} ({p.status_cell}): {p.why}\n{rule}\n{as_sent}\n{rule}"
    )


OLD_PROPOSAL_DAYS = 3  # CLI.md: `check` lists proposals older than a few days


def old_proposals(proposals: list[Proposal], today: dt.date) -> list[str]:
    """`partners check`: the proposals waiting longer than a few days, one line each."""
    old = [
        p
        for p in proposals
        if p.status == "waiting" and (today - p.proposed_day).days > OLD_PROPOSAL_DAYS
    ]
    if not old:
        return []
    lines = [
        f"{len(old)} email(s) have waited for your approval for more than {OLD_PROPOSAL_DAYS} "
        "days (`partners review` shows them; they lapse after [mail] review_expires_days):"
    ]
    lines += [
        f"  since {p.proposed_at[:10]}: {p.kind.replace('_', '-')} to {p.to_email}, "
        f"“{p.subject}” ({p.keys_cell})"
        for p in old
    ]
    return lines


REVIEW_PROMPT = "send, skip, later YYYY-MM-DD, next or quit? "


def recorded_line(applied: list[tuple[Proposal, Decision]]) -> str:
    """What `partners review` recorded, in one line."""
    verbs = Counter(d.verb for _, d in applied)
    if not applied:
        return "Nothing decided: every proposal still waits."
    said = ", ".join(
        f"{verbs[v]} {w}"
        for v, w in (("send", "to send"), ("skip", "skipped"), ("later", "for later"))
        if verbs[v]
    )
    return f"Recorded: {said}."


def review_lines(run: ReviewRun | None, settings: Settings) -> list[str]:
    """What review did this run: proposed, withdrawn, still waiting (EMAIL.md, review)."""
    if run is None:
        return []
    lines = []
    ways = ["`partners review`", "a reply to the review email"]
    if settings.sheet.backend == "google":
        ways.append(f"the {settings.sheet.tabs.review} tab")
    where = ", ".join(ways[:-1]) + f" or {ways[-1]}"
    if run.proposed:
        kinds = Counter(p.kind.replace("_", "-") for p in run.proposed)
        said = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        lines.append(
            f"Proposed {len(run.proposed)} email(s) for your approval ({said}); nothing of "
            f"them was sent. Decide with {where}."
        )
    withdrawn = {e.message_id: e.detail for e in run.entries if e.status == "withdrawn"}
    for ident, detail in withdrawn.items():
        p = run.proposals.get(ident)
        what = f"The {about(p)}" if p else "A proposal"
        lines.append(f"{what} was withdrawn and will not be sent: {detail}.")
    earlier = [p for p in run.waiting if p not in run.proposed and p.status != "approved"]
    if earlier:
        oldest = min(p.proposed_at[:10] for p in earlier)
        lines.append(
            f"{len(earlier)} earlier proposal(s) still wait for your decision (the oldest "
            f"since {oldest})."
        )
    return lines + approved_lines(p for p in run.waiting if p.status == "approved")


def approved_lines(approved: Iterable[Proposal]) -> list[str]:
    """What was approved and has not gone yet, and when it goes (EMAIL.md, review)."""
    campaigns = Counter(p.campaign for p in approved)
    other = campaigns.pop("", 0)
    lines = [
        f"{n} approved outreach email(s) of campaign {name} go with its next run "
        f"(`partners campaign` with its file and --send)."
        for name, n in sorted(campaigns.items())
    ]
    if other:
        lines.append(f"{other} approved email(s) go with the next sending run.")
    return lines


def inbox_line(inbox: InboxOutcome, recorded: bool = True) -> str:
    """One line: what the inbox scan recorded, or (a dry run, `check`) what a sending run
    will record: those read nothing into the Log (CLI.md)."""
    c = inbox.counts
    found = f"{c['reply']} reply(ies), {c['bounce']} bounce(s), {c['unsubscribe']} unsubscribe(s)"
    unreadable = f"; {c['unreadable']} unreadable, skipped" if c["unreadable"] else ""
    if c["away"]:
        found += f", {c['away']} automatic reply(ies) with a return day"
    if c["emailed"]:
        found += f", {c['emailed']} email(s) of yours to partners in Sent"
    new = (
        f"{len(inbox.entries)} new in the Log"
        if recorded
        else f"{len(inbox.entries)} to record with the next sending run (nothing written now)"
    )
    return f"Inbox: {found} read; {new}; {c['ignored']} other message(s) ignored{unreadable}."


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
    return render_table(["partner", "email", "their avg", "your avg", "3+ points apart"], rows)


def preview_text(prepared: Outgoing, html: bool = False) -> str:
    """Headers and one body part of a message, as a person reads it."""
    msg = prepared.message
    head = [f"{name}: {value}" for name, value in msg.items()]
    body = prepared.html if html else prepared.text
    return "\n".join(head) + "\n\n" + body
