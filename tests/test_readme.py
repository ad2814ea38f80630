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


def _how_it_works() -> str:
    return README.split("## How it works", 1)[1].split("\n## ", 1)[0]


def test_the_readme_map_names_every_part_of_the_tree_and_nothing_that_is_gone() -> None:
    # Issue 24, acceptance 6: the map in "How it works" is the tree as it is.
    section = _how_it_works()
    named = set(re.findall(r"`(automations/[\w/.]+|[\w]+/|[\w]+\.py)`", section))
    package = ROOT / "automations"
    for name in named:
        path = name if name.startswith("automations/") else None
        if path:
            assert (ROOT / path.rstrip("/")).exists(), f"the README names {name}, not in the tree"
    top = {
        p.name + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if not p.name.startswith(("_", ".")) and (p.is_dir() or p.suffix == ".py")
    }
    mentioned = {n.removeprefix("automations/") for n in named}
    missing = {t for t in top if t not in mentioned and t.rstrip("/") + "/" not in mentioned}
    assert not missing, f"the README's map leaves out {sorted(missing)}"


def test_the_readme_draws_one_run_in_one_picture() -> None:
    section = _how_it_works()
    assert section.count("```text") == 1
    for step in ("one read", "plan", "review", "at most once", "one write"):
        assert step in section, step


def test_every_module_the_architecture_page_names_is_in_the_tree() -> None:
    # Issue 24, acceptance 6: the file-by-file map names no module that has moved away.
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    tree = {p.relative_to(ROOT).as_posix() for p in (ROOT / "automations").rglob("*")}
    tree |= {f"{p}/" for p in tree}
    for name in set(re.findall(r"`([\w/]+(?:\.py|/))`", page)):
        if name.startswith(("templates/", "config/", "tests/", "bench/", "docs/", "state/")):
            continue
        assert any(p.endswith(name) for p in tree), f"architecture.md names {name}"
