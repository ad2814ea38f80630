"""The README is a new user's first page: short, every command there, every link resolving,
and the one warning about state/ (its whole story is in the manual)."""

from __future__ import annotations

import re
from pathlib import Path

from automations.cli import build_parser

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme_commands_table() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"| `partners {name}" in README, name


def test_the_readme_is_short_and_its_links_resolve() -> None:
    # Issue 27: 1,118 lines before; the manual is the docs site.
    assert len(README.splitlines()) <= 170
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).is_file(), target


def test_deleting_state_after_a_killed_run_makes_its_sends_due_again_is_said() -> None:
    # Issue 10, item 16: the README warns, the manual explains.
    assert "**Keep `state/`.**" in README
    manual = (ROOT / "docs" / "at-most-once.md").read_text(encoding="utf-8")
    assert "**Keep `state/`.**" in manual and "they are **due\n  again** on the next run" in manual
