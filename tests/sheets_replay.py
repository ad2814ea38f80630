"""Replay recorded Google Sheets traffic (vcrpy cassettes) against the emulator and compare.

Only cassettes whose Sheets requests all use the operations the toolkit uses are
replayed. Drive calls create (or copy) the spreadsheets: each is seeded in the
emulator under the same id, so the recorded requests need no rewriting. Per
request: the status code and, on success, values, range and the updated* counts
(for metadata: the tabs' titles, order and grid sizes) must match.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from automations.testing.sheets_emulator import SheetsEmulator


def _cassettes() -> Path:
    """`../shared/fixtures/gspread-cassettes` from the project root (or $PARTNERS_CASSETTES)."""
    if os.environ.get("PARTNERS_CASSETTES"):
        return Path(os.environ["PARTNERS_CASSETTES"])
    root = Path(__file__).resolve().parents[1]
    for folder in root.parents:
        candidate = folder / "shared" / "fixtures" / "gspread-cassettes"
        if candidate.is_dir():
            return candidate
    return root.parent / "shared" / "fixtures" / "gspread-cassettes"


CASSETTES = _cassettes()
OPERATIONS = {
    "get",
    "values.get",
    "values.batchGet",
    "values.update",
    "values.batchUpdate",
    "values.append",
    "values.clear",
    "batchUpdate:addSheet",
}
COMPARED = (
    "range",
    "values",
    "majorDimension",
    "updatedRange",
    "updatedRows",
    "updatedColumns",
    "updatedCells",
    "clearedRange",
    "tableRange",
    "totalUpdatedRows",
    "totalUpdatedColumns",
    "totalUpdatedCells",
)


def operation(method: str, uri: str, body: str | None) -> str:
    """The Sheets operation of a recorded request ("drive" for Drive calls)."""
    path = uri.split("?")[0]
    if "googleapis.com/drive" in path or "googleapis.com/upload" in path:
        return "drive"
    match = re.match(r"https://sheets.googleapis.com/v4/spreadsheets/([^/:]+)(.*)$", path)
    rest = match.group(2) if match else "?"
    if rest == "" and method == "GET":
        return "get"
    if rest == ":batchUpdate":
        kinds = sorted({next(iter(r)) for r in json.loads(body or "{}").get("requests", [])})
        return "batchUpdate:" + ",".join(kinds)
    for suffix, name in (
        ("/values:batchGet", "values.batchGet"),
        ("/values:batchUpdate", "values.batchUpdate"),
        ("/values:batchClear", "values.batchClear"),
    ):
        if rest.startswith(suffix):
            return name
    if rest.endswith(":append"):
        return "values.append"
    if rest.endswith(":clear"):
        return "values.clear"
    if rest.startswith("/values/"):
        return {"GET": "values.get", "PUT": "values.update"}.get(method, method)
    return f"{method} {rest}"


def _body(request: dict[str, Any]) -> str | None:
    body = request.get("body")
    if isinstance(body, dict):
        body = body.get("string")
    return body or None


def usable(path: Path, operations: set[str] = OPERATIONS) -> bool:
    """Whether every Sheets request of the cassette is one the toolkit uses."""
    interactions = json.loads(path.read_text())["interactions"]
    ops = {
        operation(i["request"]["method"], i["request"]["uri"], _body(i["request"]))
        for i in interactions
    }
    uploads = any("googleapis.com/upload" in i["request"]["uri"] for i in interactions)
    return ops <= operations | {"drive"} and not uploads


# The formatting a run sends with Health (SHEET.md, Health and Review), where recorded.
FORMATTING = {
    "batchUpdate:repeatCell",
    "batchUpdate:updateSheetProperties",
    "batchUpdate:setBasicFilter",
    "batchUpdate:clearBasicFilter",
    "batchUpdate:setDataValidation",
    "batchUpdate:addProtectedRange",
    "batchUpdate:updateDimensionProperties",
}


def formatting_shape(op: str, payload: dict[str, Any]) -> Any:
    """What a formatting request changes, as an answer shows it: each batchUpdate reply
    (a protected range's range and warning), each tab's frozen rows and columns, filter
    and protected ranges in the metadata."""
    if op.startswith("batchUpdate:"):
        return [
            _protection(r.get("addProtectedRange", {}).get("protectedRange"))
            for r in payload.get("replies", [])
        ]
    if op == "get":
        return [
            (
                s.get("properties", {}).get("title"),
                s.get("properties", {}).get("gridProperties", {}).get("frozenRowCount", 0),
                s.get("properties", {}).get("gridProperties", {}).get("frozenColumnCount", 0),
                s.get("basicFilter", {}).get("range"),
                [_protection(p) for p in s.get("protectedRanges", [])],
            )
            for s in payload.get("sheets", [])
        ]
    return _shape(op, payload)


def _protection(found: dict[str, Any] | None) -> Any:
    return None if found is None else (found.get("range"), found.get("warningOnly", False))


def _shape(op: str, payload: dict[str, Any]) -> Any:
    if op == "get":
        return [
            (
                s["properties"]["title"],
                s["properties"].get("index"),
                s["properties"].get("gridProperties", {}).get("rowCount"),
                s["properties"].get("gridProperties", {}).get("columnCount"),
            )
            for s in payload.get("sheets", [])
        ]
    if op == "values.batchGet":
        return [_shape("values.get", v) for v in payload.get("valueRanges", [])]
    if op == "values.append":
        return (payload.get("tableRange"), _shape("values.update", payload.get("updates", {})))
    if op == "batchUpdate:addSheet":
        return [
            (
                r["addSheet"]["properties"]["title"],
                r["addSheet"]["properties"].get("gridProperties"),
            )
            for r in payload.get("replies", [])
        ]
    return {k: payload[k] for k in COMPARED if k in payload}


@dataclass
class Replay:
    """Matches and totals per operation, and what differed."""

    matched: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    differences: list[str] = field(default_factory=list)
    skipped: int = 0

    @property
    def rate(self) -> float:
        """Overall share of requests answered as Google did."""
        return sum(self.matched.values()) / max(1, sum(self.total.values()))

    def table(self) -> str:
        """Match rate per operation, as text."""
        lines = [
            f"{op:22} {self.matched[op]:4}/{self.total[op]:<4} {self.matched[op] / self.total[op]:6.1%}"
            for op in sorted(self.total)
        ]
        lines.append(
            f"{'overall':22} {sum(self.matched.values()):4}/{sum(self.total.values()):<4} {self.rate:6.1%}"
        )
        return "\n".join(lines)


def replay(paths: list[Path], shape: Any = None) -> Replay:
    """Replay each cassette against a fresh emulator, comparing answers by `shape`."""
    out = Replay()
    emulator = SheetsEmulator().start()  # one for all: every cassette has its own sheet ids
    try:
        for path in paths:
            _replay_one(path, emulator, out, shape or _shape)
    finally:
        emulator.stop()
    return out


def _replay_one(path: Path, emulator: SheetsEmulator, out: Replay, shape: Any) -> None:
    base = f"http://{emulator.host}"
    session = requests.Session()
    session.trust_env = False
    for interaction in json.loads(path.read_text())["interactions"]:
        request, response = interaction["request"], interaction["response"]
        body = _body(request)
        op = operation(request["method"], request["uri"], body)
        recorded = response["body"].get("string") or ""
        if op == "drive":
            _drive(request, recorded, emulator)
            continue
        parts = urlsplit(request["uri"])
        known = re.search(r"/spreadsheets/([^/:]+)", parts.path)
        want_status = response["status"]["code"]
        if known and known.group(1) not in emulator.spreadsheets and want_status != 404:
            out.skipped += 1  # made before the recording (or private): the emulator cannot know it
            continue
        if shape is formatting_shape and "fields=" in parts.query:
            out.skipped += 1  # a field mask: the emulator answers every field
            continue
        url = base + parts.path + (f"?{parts.query}" if parts.query else "")
        got = session.request(
            request["method"], url, data=body, headers={"Content-Type": "application/json"}
        )
        out.total[op] += 1
        ok = got.status_code == want_status
        if ok and got.status_code == 200:
            want = shape(op, json.loads(recorded))
            have = shape(op, got.json())
            ok = want == have
            if not ok:
                out.differences.append(
                    f"{path.name} {op} {parts.path}: google {want!r} != emulator {have!r}"
                )
        elif not ok:
            out.differences.append(
                f"{path.name} {op} {parts.path}: status google {want_status} != emulator {got.status_code} {got.text[:200]}"
            )
        if ok:
            out.matched[op] += 1


def _drive(request: dict[str, Any], recorded: str, emulator: SheetsEmulator) -> None:
    """Drive creates (and copies) spreadsheets: seed them under the recorded id."""
    if request["method"] != "POST" or not recorded:
        return
    made = json.loads(recorded)
    if (
        made.get("mimeType", "application/vnd.google-apps.spreadsheet")
        != "application/vnd.google-apps.spreadsheet"
        or "id" not in made
    ):
        return
    copied = re.search(r"/files/([^/?]+)/copy", request["uri"])
    if copied and copied.group(1) in emulator.spreadsheets:
        source = emulator.spreadsheets[copied.group(1)]
        tabs = {t.title: emulator.values(source.spreadsheet_id, t.title) for t in source.tabs}
        emulator.create(made["id"], made.get("name", "Copy"), tabs)
        return
    emulator.create(made["id"], made.get("name", "Untitled spreadsheet"))


if __name__ == "__main__":
    found = sorted(p for p in CASSETTES.glob("*.json") if usable(p))
    result = replay(found)
    print(
        f"{len(found)} cassettes replayed, {result.skipped} requests to spreadsheets not made in them"
    )
    print(result.table())
    for line in result.differences:
        print(line[:400])
