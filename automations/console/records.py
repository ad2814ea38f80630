"""One record per email of a run, as JSON or CSV (`partners nurture --format`, CLI.md)."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automations.jobs.pipeline import RunResult
    from automations.jobs.plans.planned import Planned

    NurtureResult = RunResult[Planned]


def email_records(result: NurtureResult) -> list[dict[str, object]]:
    """One record per email the run would send or sent (kind, to, subject, reason, keys,
    status): `due` in a dry run, else what became of it; `waits` for one a cap held back."""
    outcome = {id(p): d for p, d in (result.report.outcomes if result.report else [])}
    refused = {id(p) for p in (result.report.refused_again if result.report else [])}
    records: list[dict[str, object]] = []
    for p in result.to_send:
        delivery = outcome.get(id(p))
        status: str  # a delivery's Status, or what became of an email that went nowhere
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
