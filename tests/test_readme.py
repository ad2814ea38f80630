"""The README tells a new user the truth: every command is there, and what state/ costs."""

from __future__ import annotations

from pathlib import Path

from automations.cli import build_parser

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme_commands_table() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"| `partners {name}" in README, name


def test_the_readme_says_deleting_state_after_a_killed_run_makes_its_sends_due_again() -> None:
    # Issue 10, item 16.
    assert "**Keep `state/`.**" in README
    assert "they are **due\n  again** on the next run" in README
