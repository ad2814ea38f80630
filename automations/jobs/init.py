"""`partners init`: a project folder with config, templates, example campaigns and a sample."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

from automations.adapters.sheet.xlsx import write_workbook
from automations.demo.workbook import sample_sheet
from automations.jobs.wiring import shipped_files


@dataclass
class InitResult:
    """Files `partners init` created, and those it kept as they were."""

    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)

    def copy(self, source: Traversable, target: Path) -> None:
        """`source` to `target`, unless `target` exists (it is the user's)."""
        if target.exists():
            self.kept.append(target)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        self.created.append(target)


def run_init(folder: Path, today: dt.date) -> InitResult:
    """Write config, templates and a sample workbook into `folder`; never overwrite (CLI.md)."""
    result = InitResult()
    config = shipped_files("config")
    result.copy(config / "partners.example.toml", folder / "config" / "partners.toml")
    templates = shipped_files("templates")
    for item in sorted(templates.iterdir(), key=lambda t: t.name):
        if item.name.endswith(".md"):
            result.copy(item, folder / "templates" / item.name)
    for item in sorted((config / "campaigns").iterdir(), key=lambda t: t.name):
        if item.name.endswith(".toml"):
            result.copy(item, folder / "config" / "campaigns" / item.name)
    workbook = folder / "data" / "partners.xlsx"
    if workbook.exists():
        result.kept.append(workbook)
    else:
        write_workbook(workbook, sample_sheet(today))
        result.created.append(workbook)
    return result
