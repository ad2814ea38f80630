"""A read-only HTML view of the emulator's spreadsheets (`partners sandbox`, CLI.md): every
tab as a table, so a user sees Health, the Log and the Review tab as Google would show them."""

from __future__ import annotations

import html

from automations.testing.cells import _formatted
from automations.testing.grid import Spreadsheet, Tab


def _table(tab: Tab) -> str:
    if not tab.cells:
        return "<p>(empty)</p>"
    rows = max(r for r, _ in tab.cells) + 1
    cols = max(c for _, c in tab.cells) + 1
    out = ["<table>"]
    for r in range(rows):
        tag = "th" if r == 0 else "td"
        cells = (tab.cells.get((r, c)) for c in range(cols))
        shown = (html.escape(_formatted(cell)) if cell else "" for cell in cells)
        out.append("<tr>" + "".join(f"<{tag}>{text}</{tag}>" for text in shown) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def page(sheets: list[Spreadsheet]) -> str:
    """Every tab of every spreadsheet, one section each, with links at the top."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Sheets emulator</title>",
        "<meta http-equiv='refresh' content='10'>",
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}th{background:#eee}</style>",
    ]
    for sheet in sheets:
        name = html.escape(sheet.spreadsheet_id)
        parts.append(f"<h1>{html.escape(sheet.title)} ({name})</h1><p>")
        parts += [
            f"<a href='#{name}-{html.escape(t.title)}'>{html.escape(t.title)}</a> "
            for t in sheet.tabs
        ]
        parts.append("</p>")
        for tab in sheet.tabs:
            title = html.escape(tab.title)
            parts.append(f"<h2 id='{name}-{title}'>{title}</h2>")
            parts.append(_table(tab))
    return "\n".join(parts)
