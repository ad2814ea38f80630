"""The house stays readable (issue 24, acceptance 1): no function over 60 lines outside the
argument parser and the demo data, no module over 400 lines. The allow-lists name today's
offenders; each is being split, so a new one fails here and a fixed one may leave."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "automations"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400

# Long by nature: one statement per option or per demo row, read top to bottom.
LONG_BY_NATURE = {
    "build_parser",  # cli.py: the argument parser, one add_argument per option
    "sample_sheet",  # the demo workbook's rows (data, not logic)
}

FUNCTIONS_TO_SPLIT = {
    "console.py::nurture_lines",  # console.py is being split into console/ (issue 24)
}

MODULES_TO_SPLIT = {
    "console.py",  # being split into console/ (issue 24)
    "adapters/sheet/google.py",  # being split (issue 24)
    "config.py",  # not yet taken up: 401 lines
}


def _modules(root: Path) -> list[tuple[str, str]]:
    return [
        (path.relative_to(root).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(root.rglob("*.py"))
    ]


def long_functions(root: Path) -> set[str]:
    """`module::function` of every function over the limit, the exempt ones left out."""
    found = set()
    for name, text in _modules(root):
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            too_long = node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
            if too_long and node.name not in LONG_BY_NATURE:
                found.add(f"{name}::{node.name}")
    return found


def long_modules(root: Path) -> set[str]:
    """Every module over the limit."""
    return {name for name, text in _modules(root) if len(text.splitlines()) > MAX_MODULE_LINES}


def test_no_function_is_longer_than_60_lines_but_the_parser_and_the_demo_data() -> None:
    new = long_functions(PACKAGE) - FUNCTIONS_TO_SPLIT
    assert not new, f"over {MAX_FUNCTION_LINES} lines: {sorted(new)}"


def test_no_module_is_longer_than_400_lines() -> None:
    new = long_modules(PACKAGE) - MODULES_TO_SPLIT
    assert not new, f"over {MAX_MODULE_LINES} lines: {sorted(new)}"


def test_the_check_finds_a_grown_function_and_module_and_spares_the_parser(
    tmp_path: Path,
) -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_FUNCTION_LINES))
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "grown.py").write_text(f"def grown():\n{body}")
    (tmp_path / "cli.py").write_text(f"def build_parser():\n{body}")
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert long_functions(tmp_path) == {"jobs/grown.py::grown"}
    assert long_modules(tmp_path) == {"long.py"}
