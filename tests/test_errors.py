"""Every error class lives in automations/errors.py, drawn in its docstring (ARCHITECTURE.md,
Rooms); only the named private control-flow exceptions stay beside their code."""

from __future__ import annotations

import ast
import builtins
import inspect
import re
from pathlib import Path

from automations import errors

PACKAGE = Path(errors.__file__).parent
ERRORS = PACKAGE / "errors.py"

# Raised and caught inside one module (or the emulator's HTTP answer): no user sees them.
PRIVATE = {
    "adapters/sheet/google.py": {"_MayHaveLanded"},
    "adapters/mail/smtp.py": {"_Retry"},
    "adapters/calendar/fetch.py": {"Unreadable"},
    "adapters/calendar/events.py": {"NotCalendar"},
    "testing/grid.py": {"ApiError"},
    "testing/a1.py": {"RangeError"},
}

_BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def _classes(path: Path) -> list[tuple[str, list[str]]]:
    """Each class of the module and the last names of its bases (`x.SheetError`: SheetError)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b).rpartition(".")[2].split("[")[0] for b in node.bases]
            found.append((node.name, bases))
    return found


def _exception_classes() -> dict[str, set[str]]:
    """Module (relative path) -> the exception classes defined in it, by name: a class is
    one when a base is a built-in exception, a class of errors.py, or one found so far."""
    modules = {p.relative_to(PACKAGE).as_posix(): _classes(p) for p in PACKAGE.rglob("*.py")}
    known = set(_BUILTIN_EXCEPTIONS)
    found: dict[str, set[str]] = {}
    grew = True
    while grew:  # a subclass of a subclass defined elsewhere needs another pass
        grew = False
        for module, classes in modules.items():
            for name, bases in classes:
                if any(b in known for b in bases) and name not in found.get(module, set()):
                    found.setdefault(module, set()).add(name)
                    known.add(name)
                    grew = True
    return found


def test_every_error_class_is_in_errors_py() -> None:
    outside = {
        f"{module}: {name}"
        for module, names in _exception_classes().items()
        if module != "errors.py"
        for name in names - PRIVATE.get(module, set())
    }
    assert not outside, (
        "move these to automations/errors.py (and its docstring's tree), or name them in "
        f"PRIVATE here and in errors.py's docstring if no user ever sees them: {sorted(outside)}"
    )


def test_the_private_list_names_what_is_there() -> None:
    found = _exception_classes()
    for module, names in PRIVATE.items():
        assert names <= found.get(module, set()), f"{module} no longer defines {names}"


def _tree() -> dict[str, str]:
    """The docstring's drawing (from the line `Exception` to the next blank line): each
    class named in it -> the class it hangs under (4 columns a level)."""
    lines = (errors.__doc__ or "").splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == "Exception")
    margin = lines[first].index("E")
    parents: dict[str, str] = {}
    stack: list[str] = []
    for line in lines[first:]:
        if not line.strip():
            break
        drawn = re.search(r"[A-Za-z_]\w*", line)
        assert drawn is not None, line
        depth = (drawn.start() - margin) // 4
        del stack[depth:]
        if stack:
            parents[drawn.group()] = stack[-1]
        stack.append(drawn.group())
    return parents


def test_the_docstring_draws_every_class_under_its_base() -> None:
    drawn = _tree()
    defined = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and cls.__module__ == errors.__name__
    }
    assert set(defined) <= set(drawn), f"not drawn: {sorted(set(defined) - set(drawn))}"
    for name, cls in defined.items():
        assert drawn[name] == cls.__bases__[0].__name__, f"{name} is drawn under {drawn[name]}"
    undefined = set(drawn) - set(defined) - _BUILTIN_EXCEPTIONS
    assert not undefined, f"drawn but not defined: {sorted(undefined)}"
