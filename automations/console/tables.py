"""Health and the survey report as a table, CSV or JSON (CLI.md)."""

from __future__ import annotations

import io
import json
import shutil

import pandas as pd

from automations.core.engine.decisions import HEALTH_COLUMNS


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
