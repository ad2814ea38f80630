"""Benchmark: how fast `partners` starts (CLI.md: heavy libraries are imported where used).

Times whole processes, best of 5 (the least disturbed by other work on the machine):
- `partners --help`: parsing only; the goal is under 0.3 s;
- `partners check` on a fresh `partners init` project: config, templates, every tab;
- the bare interpreter (`python -c pass`), the floor both stand on.
Also lists the heavy libraries `--help` and `check` load, from `python -X importtime`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 5
HEAVY = (
    "pandas",
    "numpy",
    "matplotlib",
    "gspread",
    "icalendar",
    "rich",
    "jinja2",
    "msal",
    "openpyxl",
)


def best_of(argv: list[str], cwd: Path) -> float:
    """The fastest of ROUNDS runs, in seconds."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return min(times)


def heavy_imports(argv: list[str], cwd: Path) -> list[str]:
    """The heavy top-level libraries a command imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "automations", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return [name for name in HEAVY if name in loaded]


def main() -> None:
    """Print the start-up times."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "automations", "init"], cwd=project, capture_output=True
        )
        floor = best_of([sys.executable, "-c", "pass"], project)
        print(f"start-up, best of {ROUNDS}: python -c pass {floor:.3f} s")
        for argv in (["--help"], ["check"]):
            took = best_of([sys.executable, "-m", "automations", *argv], project)
            heavy = ", ".join(heavy_imports(argv, project)) or "none"
            print(f"  partners {' '.join(argv):8} {took:.3f} s   heavy libraries: {heavy}")


if __name__ == "__main__":
    main()
