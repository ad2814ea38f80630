"""How the toolkit's tabs look to a person, for both backends (SHEET.md, Health and
Review): colours by action, the legend, column widths, date columns, the decision choices."""

from __future__ import annotations

from automations.core.schema import column_letter
from automations.core.vocabulary import Action

# Light fills, so the text stays readable; the same action family shares a colour.
ACTION_COLOURS: tuple[tuple[str, str], ...] = (
    (Action.ESCALATE, "#F4CCCC"),
    (Action.THANK, "#D9EAD3"),
    (Action.OUTCOME, "#D9EAD3"),
    (Action.FOLLOW_UP, "#FFF2CC"),
    (Action.FADE, "#EFEFEF"),
    (Action.BLOCKED, "#D9D9D9"),
    (Action.FIX_ROW, "#FCE5CD"),
)
LEGEND = (
    "Colours by action: red escalate, green thank or outcome, yellow follow_up, light grey "
    "fade, grey blocked, orange fix row (the partner's row needs a fix: see reason)."
)
WIDTHS = {  # pixels; columns not named get DEFAULT_WIDTH
    "name": 160,
    "email": 220,
    "company": 160,
    "owner": 180,
    "reason": 380,
    "action": 90,
    "last_touch": 95,
    "next_due": 95,
}
DEFAULT_WIDTH = 85
DATE_COLUMNS = ("last_touch", "next_due")
DATE_PATTERN = "yyyy-mm-dd"
DECISIONS = ("send", "skip")
DECISION_HELP = "send, skip, or a date to decide later (for example 2026-12-01)"
PROTECTION = "partners toolkit: its columns; type your decision under `decision`"


def rgb(colour: str) -> dict[str, float]:
    """#RRGGBB as the Sheets API's Color (0..1 per channel)."""
    value = colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 4), "green": round(green, 4), "blue": round(blue, 4)}


def action_formula(action_column: int, action: str, first_row: int = 2) -> str:
    """The conditional-format formula matching rows whose action is `action`."""
    return f'=${column_letter(action_column)}{first_row}="{action}"'


def toolkit_blocks(header: list[str]) -> list[tuple[int, int]]:
    """[start, end) column blocks of the Review tab that are the toolkit's (all but
    `decision`)."""
    keep = header.index("decision") if "decision" in header else len(header)
    return [(a, b) for a, b in ((0, keep), (keep + 1, len(header))) if a < b]
