"""Benchmark: whole runs at the sheet's size limit, as processes, beside their floor.

For 20,000 partners (about 1M cells) and 100,000 partners with 700,000 referrals (the
10M-cell case), a generated workbook, and in the same run:
- `partners health` and `partners nurture --send` (outbox) as processes: wall time and
  peak memory (max RSS of the child);
- the floor: a bare process that reads every tab with python-calamine and writes a
  Health of the same size with xlsxwriter (constant memory), nothing else.
Prints each, and the ratio run / floor (target: within 2x; the 10M-cell case under 30 s
and 2 GB). `python bench/bench_run.py 20000` runs one size only.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automations.core.schema import LOG_COLUMNS
from automations.jobs.init import run_init
from bench.bench_engine import make_tables

SIZES = {20_000: (20_000, 140_000, 20_000, 40_000), 100_000: (100_000, 700_000, 100_000, 200_000)}
TABS = ("Partners", "Referrals", "Touches", "Survey")
HEALTH_COLUMNS = 20  # about what the Health tab holds per partner

FLOOR = r"""
import sys
from python_calamine import CalamineWorkbook
import xlsxwriter
book = CalamineWorkbook.from_path(sys.argv[1])
rows = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
partners = len(rows["Partners"]) - 1
out = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
sheet = out.add_worksheet("Health")
for r in range(partners + 1):
    sheet.write_row(r, 0, [f"cell {r}"] * 8 + [float(r)] * 12)
out.close()
"""


def _cells(frame: pd.DataFrame) -> list[list[Any]]:
    out = frame.drop(columns=["row"]).astype(object)
    for column in out.columns:
        values = frame[column]
        shown = values.dt.strftime("%Y-%m-%d") if values.dtype.kind == "M" else values
        # Object first: pandas' str dtype (floats, dates as text) keeps NaN for an empty cell.
        out[column] = shown.astype(object).where(values.notna(), None)
    return [list(frame.columns.drop("row")), *out.to_numpy().tolist()]


def make_workbook(path: Path, size: int) -> None:
    """The generated sheet of `size` partners as a real .xlsx (Log rows as history)."""
    partners, referrals, touches, log = SIZES[size]
    tables = make_tables(partners, referrals, touches, log)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    frames = dict(
        zip(TABS, (tables.partners, tables.referrals, tables.touches, tables.survey), strict=True)
    )
    log_frame = tables.log.copy()
    log_frame["timestamp"] = log_frame["timestamp"].dt.strftime("%Y-%m-%dT09:00:00+00:00")
    log_frame["run_id"] = "history"
    log_frame["template"] = log_frame["action"]
    frames["Log"] = log_frame[["row", *LOG_COLUMNS]]
    for title, frame in frames.items():
        sheet = book.add_worksheet(title)
        for r, row in enumerate(_cells(frame)):
            sheet.write_row(r, 0, ["" if v is None else v for v in row])
    book.close()


WRAP = r"""
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode > 1:
    sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
"""


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time (s) and peak memory (max RSS, MiB) of `command` as its own process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAP, *command], cwd=cwd, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    rss, code = done.stdout.split()[-2:]
    if int(code) > 1:
        print(f"  {' '.join(command[-3:])} exited {code}: {done.stderr[-1500:]}", file=sys.stderr)
    return wall, int(rss) / 1024


def project(folder: Path, size: int) -> Path:
    """A project made by `partners init`, its workbook replaced by the generated one."""
    run_init(folder, dt.date.today())
    config = folder / "config" / "partners.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace(
        'form_url = "', 'form_url = "https://docs.google.com/forms/d/e/X/viewform', 1
    )
    start = text.index("\nreview = [")  # measured without review: everything due is written
    text = text[:start] + '\nreview = "none"' + text[text.index("\n", start + 1) :]
    config.write_text(text, encoding="utf-8")
    cache = Path(tempfile.gettempdir()) / f"partners-bench-{size}.xlsx"
    if not cache.exists():
        make_workbook(cache, size)
    shutil.copy(cache, folder / "data" / "partners.xlsx")
    return folder


def google(folder: Path, size: int) -> bool:
    """The same sheet on the Sheets emulator (real gspread over HTTP): the decisions equal
    the workbook's, the run's requests, wall time and peak memory."""
    from python_calamine import CalamineWorkbook

    from automations.testing.sheets_emulator import SheetsEmulator

    book = CalamineWorkbook.from_path(str(folder / "data" / "partners.xlsx"))
    tabs = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    cells = sum(len(r) for rows in tabs.values() for r in rows)
    emulator = SheetsEmulator().start()
    try:
        emulator.create("bench-sheet", "partners", tabs)
        del tabs
        config = folder / "config" / "partners.toml"
        local = config.read_text(encoding="utf-8")
        remote = local.replace('backend = "xlsx"', 'backend = "google"', 1).replace(
            'spreadsheet = ""', 'spreadsheet = "bench-sheet"', 1
        )
        env = {**os.environ, "SHEETS_EMULATOR_HOST": emulator.host}
        csv = [sys.executable, "-m", "automations", "health", "--no-write", "--format", "csv"]
        want = subprocess.run(csv, cwd=folder, capture_output=True, text=True).stdout
        config.write_text(remote, encoding="utf-8")
        got = subprocess.run(csv, cwd=folder, capture_output=True, text=True, env=env).stdout
        os.environ["SHEETS_EMULATOR_HOST"] = emulator.host
        runs = []
        for _ in range(2):  # the first run adds the Health and Log tabs; the second is any day
            emulator.requests.clear()
            wall, rss = timed([sys.executable, "-m", "automations", "health", "-q"], folder)
            runs.append(
                Counter(path.rsplit("/", 1)[-1].split(":")[-1] for _, path in emulator.requests)
            )
        config.write_text(local, encoding="utf-8")
    finally:
        os.environ.pop("SHEETS_EMULATOR_HOST", None)
        emulator.stop()
    same = bool(want) and want == got
    print(
        f"  {'partners health on Google (emulator)':<34} {wall:7.2f} s  {rss:7.0f} MiB   "
        f"{cells:,} cells, decisions {'the same' if same else 'DIFFERENT'}"
    )
    for label, counts in zip(("first run", "next run"), runs, strict=True):
        said = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
        print(f"    requests, {label}: {sum(counts.values())} ({said})")
    return same


def long_log(folder: Path, rows: int = 200_000) -> tuple[float, float]:
    """`partners health` once the toolkit's own Log holds `rows` rows (archives and all)."""
    from automations.adapters.sheet.xlsx import XlsxBackend
    from automations.config import Tabs

    backend = XlsxBackend(folder / "data" / "partners.xlsx", Tabs())
    backend.read()
    day = dt.date.today() - dt.timedelta(days=400)
    log = [
        [
            f"{day.isoformat()}T09:00:00+00:00",
            "history-bench",
            "nurture",
            f"p{n % 20_000}@partner{n % 997}.example",
            f"nurture:p{n}@bench.example:{day.isoformat()}",
            "nurture",
            "How are things?",
            f"<bench{n}@rivera-consulting.example>",
            "sent",
            "",
        ]
        for n in range(rows)
    ]
    backend.write(None, log)
    return timed([sys.executable, "-m", "automations", "health", "-q"], folder)


def normalisation(folder: Path) -> tuple[float, float]:
    """In this process: reading every tab (calamine), then `build_tables` on its own."""
    from automations.adapters.sheet.xlsx import XlsxBackend
    from automations.config import Tabs
    from automations.core.tables import build_tables

    start = time.perf_counter()
    raw = XlsxBackend(folder / "data" / "partners.xlsx", Tabs()).read()
    read = time.perf_counter() - start
    titles = {t: t.capitalize() for t in ("partners", "referrals", "touches", "survey", "log")}
    start = time.perf_counter()
    build_tables(raw, dt.date.today(), titles, date_order="YMD")
    return read, time.perf_counter() - start


def row(label: str, wall: float, rss: float, floor: float) -> str:
    return f"  {label:<34} {wall:7.2f} s  {rss:7.0f} MiB   {wall / floor:4.1f}x floor"


def main() -> int:
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    partners = [sys.executable, "-m", "automations"]
    ok = True
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = project(Path(tmp), size)
            workbook = folder / "data" / "partners.xlsx"
            mb = workbook.stat().st_size / 2**20
            print(f"{size:,} partners ({SIZES[size][1]:,} referrals), workbook {mb:.1f} MB:")
            floor, floor_rss = timed(
                [sys.executable, "-c", FLOOR, str(workbook), str(folder / "floor.xlsx")], folder
            )
            print(
                f"  {'floor (calamine read + xlsxwriter)':<34} {floor:7.2f} s  {floor_rss:7.0f} MiB"
            )
            read, tables = normalisation(folder)
            print(f"  {'reading (calamine) / normalising':<34} {read:7.2f} s / {tables:.2f} s")
            health, health_rss = timed([*partners, "health", "-q"], folder)
            print(row("partners health", health, health_rss, floor))
            if size == 20_000:
                ok &= google(folder, size)
                wall, rss = long_log(folder)
                print(row("health, toolkit Log of 200,000 rows", wall, rss, floor))
            for made in (folder / "data").glob("partners.toolkit*.xlsx"):
                made.unlink()
            shutil.rmtree(folder / "state", ignore_errors=True)
            send, send_rss = timed([*partners, "nurture", "--send", "-q"], folder)
            sent = len(os.listdir(folder / "outbox")) if (folder / "outbox").exists() else 0
            print(row(f"partners nurture --send ({sent} .eml)", send, send_rss, floor))
            ok &= health <= 2 * floor
            per_email = (send - health) / max(sent, 1) * 1000
            print(f"  (nurture: about {per_email:.2f} ms per email beyond the health run's work)")
            ok &= max(health_rss, send_rss) < 2048
            if size == 100_000:
                ok &= health < 30
    print(
        "target (health within 2x of its floor, under 30 s at 10M cells; every run under 2 GB):",
        "met" if ok else "NOT met",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
