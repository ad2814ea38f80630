"""Health decisions as text for people: a table, CSV or JSON."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from automations.rules import HEALTH_COLUMNS
from automations.tables import Problem


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
