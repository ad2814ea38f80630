"""The house keeps its shape: the import contracts hold and can fail; the wheel ships the
repository's own templates and example config (ARCHITECTURE.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("core/values.py", "import automations.config", "The core is pure"),
        ("core/tables.py", "import automations.adapters.state", "The core is pure"),
        ("core/render.py", "import sqlite3", "The core is pure"),
        ("adapters/imap.py", "import automations.adapters.state", "do not import each other"),
        ("jobs/wiring.py", "import automations.console", "Layers"),
        # Issue 24: a newer library in the core, an I/O library in a job.
        ("core/values.py", "import xlsxwriter", "The core is pure"),
        ("core/replies.py", "import icalendar", "The core is pure"),
        ("jobs/pipeline.py", "import smtplib", "Jobs and the CLI wire adapters"),
        ("jobs/plans/campaign.py", "import imaplib", "Jobs and the CLI wire adapters"),
        ("jobs/inbox.py", "import flufl.bounce", "The bounce detector only in adapters.bounces"),
        ("jobs/calendar.py", "import icalendar", "Calendar libraries only in adapters.calendar"),
    ],
)
def test_a_forbidden_import_breaks_the_lint(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    shutil.copytree(ROOT / "automations", tmp_path / "automations")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "automations" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_wheel_carries_the_repositorys_templates_and_example_config(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("partner_automations-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path / "site")
    shipped = tmp_path / "site" / "automations" / "_shipped"
    assert _files(shipped / "templates") == _files(ROOT / "templates")
    assert _files(shipped / "config" / "campaigns") == _files(ROOT / "config" / "campaigns")
    example = (ROOT / "config" / "partners.example.toml").read_bytes()
    assert (shipped / "config" / "partners.example.toml").read_bytes() == example
    assert not (shipped / "config" / "partners.toml").exists()  # a user's own never ships
    # `partners init` from the installed wheel (not from this clone) makes a project.
    project = tmp_path / "project"
    init = subprocess.run(
        [sys.executable, "-m", "automations", "init", str(project)],
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    assert (project / "config" / "partners.toml").read_bytes() == example
    assert _files(project / "templates") == _files(ROOT / "templates")
    assert (project / "data" / "partners.xlsx").exists()
