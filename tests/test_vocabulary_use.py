"""Words the type checker knows (issue 24): a Log status is written `Status.SENT`, never
`"sent"`, and an email kind `Kind.THANK`, never `"thank"`, so a typo fails mypy instead of a
run. Every string constant in the package equal to a Status value, or to a word only a kind
is, is found here (docstrings and the text of f-strings left out); the kind words Health's
actions share are looked for in the modules that hold no other meaning of them. The
allow-lists name the ones where the same word means something else, with the reason."""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from pathlib import Path

from automations.core.vocabulary import Action, Kind, Status

PACKAGE = Path(__file__).parent.parent / "automations"
STATUSES = frozenset(s.value for s in Status)
# Health's actions that are no email kind: `thank` or `nurture` in the engine may be either
# (the Log's action column holds kinds), so only these tell a bare action apart for now.
ONLY_ACTIONS = frozenset(a.value for a in Action) - {k.value for k in Kind}
# The kinds that are no action: outside the vocabulary they are always Kind members.
ONLY_KINDS = frozenset(k.value for k in Kind) - {a.value for a in Action}
# The kind words Health's actions share (`thank` is both): Kind.X or Action.X by meaning.
SHARED_KINDS = frozenset(k.value for k in Kind) - ONLY_KINDS
# The modules where every shared word means a kind or an action (the rest also use them as
# command, tab, column, config or template context names).
CONVERTED = (
    "adapters/sheet/layout.py",
    "core/agenda.py",
    "core/alerts.py",
    "core/audience.py",
    "core/digest.py",
    "core/engine/due.py",
    "core/engine/facts.py",
    "core/mail/draft.py",
    "core/mail/drafting.py",
    "core/messages.py",
    "core/review.py",
    "demo/workbook.py",
    "jobs/inbox.py",
    "jobs/pipeline.py",
    "jobs/sending.py",
)

# The same word, another meaning: (module, value) -> why it is not a Log status.
NOT_A_STATUS = {
    ("adapters/mail/memory.py", "sent"): "Capabilities.verb: how a person says it went",
    ("adapters/mail/smtp.py", "sent"): "Capabilities.verb: how a person says it went",
    ("console/review.py", "skipped"): "English: the review summary's word for `skip`",
    ("core/mail/letterhead.py", "unsubscribe"): "the template context key of the opt-out link",
    ("core/mail/partner.py", "unsubscribe"): "the template context key of the opt-out link",
    ("core/optout_phrases.py", "unsubscribe"): "a word a partner writes to opt out",
    ("core/replies.py", "failed"): "a delivery report's Action field (RFC 3464)",
    ("core/replies.py", "unsubscribe"): "the subject of a List-Unsubscribe mailto message",
    ("core/review.py", "ok"): "a word the owner writes to approve in the Review tab",
    ("core/review.py", "problems"): "a template context key of the review answer",
    ("core/review_reply.py", "ok"): "a filler word in the owner's reply",
    ("core/schema.py", "meeting"): "a Touches tab kind the user types (SHEET.md)",
    ("core/schema.py", "reply"): "a Touches tab kind the user types (SHEET.md)",
    ("core/statement_mail.py", "sent"): "a template context key: referrals the partner sent",
    ("core/status.py", "failed"): "English: how the Status tab says a run ended",
    ("core/status.py", "sent"): "the Status tab's row name",
    ("demo/rows.py", "meeting"): "a Touches tab kind in the demo's rows (SHEET.md)",
    ("jobs/sending.py", "unsubscribe"): "the template context key of the opt-out link",
}
# The same word, another meaning: (module, value) -> why it is not an email kind.
NOT_A_KIND = {
    ("cli.py", "digest"): "the `partners digest` command",
    ("cli.py", "review"): "the `partners review` command",
    ("commands/__init__.py", "digest"): "the `partners digest` command (and its plan)",
    ("commands/__init__.py", "review"): "the `partners review` command",
    ("core/engine/choose.py", "escalation"): "a `next_kind` word: what comes next, in words",
    ("core/mail/drafting.py", "statement"): "the template context key of the ledger",
    ("core/mail/owner.py", "digest"): "the template context key of the summary",
    ("core/mail/partner.py", "outreach"): "the template context key of the first note",
    ("jobs/inbox.py", "review"): "the name of a count: replies to review emails",
    ("jobs/plans/__init__.py", "digest"): "the name of the `digest` command's plan",
    ("jobs/plans/digest.py", "digest"): "the job: how its Log `run` row names it",
    ("jobs/review/proposing.py", "review"): "a review email's Message-ID: <review.TOKEN@…>",
    ("jobs/scheduler.py", "digest"): "a [schedule] job and the command it runs",
    ("jobs/wiring.py", "outreach"): "the template context key of the first note",
}


def _not_code(tree: ast.Module) -> set[int]:
    """The ids of the constants that are prose: docstrings and the text parts of f-strings."""
    prose = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                prose.add(id(first.value))
        elif isinstance(node, ast.JoinedStr):
            prose.update(id(part) for part in node.values if isinstance(part, ast.Constant))
    return prose


def bare_words(
    root: Path,
    words: frozenset[str],
    allowed: Mapping[tuple[str, str], str] = NOT_A_STATUS,
    modules: Collection[str] | None = None,
) -> list[tuple[str, int, str]]:
    """(module, line, value) of every string constant in `words` under `root` (in `modules`
    only, when given), outside the vocabulary and the `allowed` list."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root).as_posix()
        if module == "core/vocabulary.py" or (modules is not None and module not in modules):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        prose = _not_code(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in words
                and id(node) not in prose
                and (module, node.value) not in allowed
            ):
                found.append((module, node.lineno, node.value))
    return sorted(found)


def bare_statuses(root: Path) -> list[tuple[str, int, str]]:
    """Every bare Log status under `root` (see bare_words)."""
    return bare_words(root, STATUSES)


def bare_kinds(root: Path) -> list[tuple[str, int, str]]:
    """Every bare email kind under `root`: a kind-only word anywhere, a word Health's actions
    share in the converted modules (see bare_words)."""
    return sorted(
        bare_words(root, ONLY_KINDS, NOT_A_KIND)
        + bare_words(root, SHARED_KINDS, NOT_A_KIND, CONVERTED)
    )


def test_no_bare_status_strings() -> None:
    """A Log status is a Status member everywhere but in the vocabulary itself."""
    found = bare_statuses(PACKAGE)
    assert not found, "write Status.X for these (or allow-list another meaning):\n" + "\n".join(
        f"automations/{module}:{line} {value!r}" for module, line, value in found
    )


def test_no_bare_kind_strings() -> None:
    """An email kind is a Kind member (or, where the word means Health's action, an Action
    member) everywhere but in the vocabulary itself."""
    found = bare_kinds(PACKAGE)
    assert not found, "write Kind.X or Action.X for these (or allow-list another meaning):\n" + (
        "\n".join(f"automations/{module}:{line} {value!r}" for module, line, value in found)
    )


def test_the_converted_modules_exist() -> None:
    """A module renamed or gone would silently leave the shared-word check."""
    missing = [m for m in CONVERTED if not (PACKAGE / m).is_file()]
    assert not missing, f"CONVERTED names modules that are gone: {missing}"


def test_no_bare_action_in_the_engine() -> None:
    """Health's actions in the engine are Action members (the rest of the package follows
    with the kinds, whose words they share)."""
    found = bare_words(PACKAGE / "core" / "engine", ONLY_ACTIONS)
    assert not found, "write Action.X for these:\n" + "\n".join(
        f"automations/core/engine/{module}:{line} {value!r}" for module, line, value in found
    )


def test_the_allow_lists_name_real_modules() -> None:
    """An allow-list entry whose module is gone or no longer says the word is stale."""
    for module, value in [*NOT_A_STATUS, *NOT_A_KIND]:
        text = (PACKAGE / module).read_text(encoding="utf-8")
        assert f'"{value}"' in text, f"{module} no longer says {value!r}: drop it"


def test_a_planted_bare_status_is_found(tmp_path: Path) -> None:
    """The check can fail: a bare `"sent"` is reported, a docstring or f-string is not."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "planted.py").write_text(
        '"""Says sent."""\n'
        "\n"
        "def f(n: int) -> str:\n"
        '    """sent"""\n'
        '    label = f"sent{n}"\n'
        '    return "sent" if label else "waits"\n',
        encoding="utf-8",
    )
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "vocabulary.py").write_text('SENT = "sent"\n', encoding="utf-8")
    assert bare_statuses(tmp_path) == [("jobs/planted.py", 6, "sent")]


def test_a_planted_bare_kind_is_found(tmp_path: Path) -> None:
    """The kind check can fail: a kind-only word anywhere, a shared word in a converted
    module; a shared word elsewhere, a docstring, an f-string or an allowed use is not."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "planted.py").write_text(
        '"""Says digest."""\n'
        "\n"
        "def f(kind: str) -> bool:\n"
        '    """escalation"""\n'
        '    label = f"digest{kind}"\n'
        '    return kind in ("escalation", "thank") and bool(label)\n',
        encoding="utf-8",
    )
    (tmp_path / "jobs" / "sending.py").write_text('KIND = "follow_up"\n', encoding="utf-8")
    (tmp_path / "jobs" / "scheduler.py").write_text('JOB = "digest"\n', encoding="utf-8")
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "vocabulary.py").write_text('THANK = "thank"\n', encoding="utf-8")
    assert bare_kinds(tmp_path) == [
        ("jobs/planted.py", 6, "escalation"),
        ("jobs/sending.py", 1, "follow_up"),
    ]
