"""The emails of a run as a person reads them: a plan table, one message in full."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automations.console.tables import render_table

if TYPE_CHECKING:
    from automations.jobs.sending import Outgoing


def count_by_kind(items: list[Outgoing]) -> str:
    """How many of each kind, in the order first met: "2 outreach, 1 follow_up"."""
    kinds: dict[str, int] = {}
    for p in items:
        kinds[p.draft.kind] = kinds.get(p.draft.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in kinds.items())


def plan_table(items: list[Outgoing]) -> str:
    """What goes (or would go): kind, to, subject and why."""
    rows = [[p.draft.kind, p.draft.to_email, p.subject, p.draft.why or "-"] for p in items]
    return render_table(["kind", "to", "subject", "why"], rows)


def preview_text(prepared: Outgoing, html: bool = False) -> str:
    """Headers and one body part of a message, as a person reads it."""
    msg = prepared.message
    head = [f"{name}: {value}" for name, value in msg.items()]
    body = prepared.html if html else prepared.text
    return "\n".join(head) + "\n\n" + body
