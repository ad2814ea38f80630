"""The manual (docs/, CLI.md): every command, option, config key, Health column and Log status
is in it, and the generated reference pages are what the code says today."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from automations import docs_gen
from automations.cli import build_parser
from automations.core.engine.decisions import HEALTH_COLUMNS
from automations.core.vocabulary import Status

DOCS = Path(__file__).resolve().parents[1] / "docs"


def docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md")))


def parser_words(parser: argparse.ArgumentParser) -> list[str]:
    """`partners COMMAND` for every command, and every option string of each."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    words = [s for a in parser._actions for s in a.option_strings if a.help != argparse.SUPPRESS]
    for name, command in sub.choices.items():
        words.append(f"partners {name}")
        words += [
            s for a in command._actions for s in a.option_strings if a.help != argparse.SUPPRESS
        ]
    return sorted(set(words))


def undocumented(parser: argparse.ArgumentParser, keys: list[str], text: str) -> list[str]:
    """What the docs never mention."""
    wanted = [
        *parser_words(parser),
        *(f"`{key}`" for key in keys),
        *(f"`{c}`" for c in HEALTH_COLUMNS),
        *(f"`{s.value}`" for s in Status if s is not Status.PENDING),  # journal only
    ]
    return [word for word in wanted if word not in text]


def config_key_names() -> list[str]:
    return [key for key, _, _ in docs_gen.config_keys()]


def test_every_command_option_config_key_health_column_and_log_status_is_documented() -> None:
    assert undocumented(build_parser(), config_key_names(), docs_text()) == []


def test_a_new_command_or_option_without_docs_is_caught() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.add_parser("frobnicate", help="a command nobody wrote up")
    sub.choices["health"].add_argument("--sideways", action="store_true", help="new")
    missing = undocumented(parser, config_key_names(), docs_text())
    assert missing == ["--sideways", "partners frobnicate"]


def test_a_new_config_key_without_docs_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [*config_key_names(), "mail.carrier_pigeon"]
    assert undocumented(build_parser(), keys, docs_text()) == ["`mail.carrier_pigeon`"]


def test_the_committed_reference_pages_are_the_generated_ones() -> None:
    for name, text in docs_gen.pages().items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, (
            f"docs/{name} is stale: run `make docs-gen`"
        )


def test_the_reference_check_fails_when_the_parser_grows_a_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def grown() -> argparse.ArgumentParser:
        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.add_parser("frobnicate", help="a command nobody wrote up")
        return parser

    monkeypatch.setattr(docs_gen, "build_parser", grown)
    assert docs_gen.main(["--check"]) == 1
    assert "partners: docs/reference/cli.md differs from the code" in capsys.readouterr().err


def runnable_commands() -> list[list[str]]:
    """Every `partners` line of every ```sh block marked `<!-- runnable -->` in the docs."""
    import re
    import shlex

    found = []
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"<!-- runnable -->\n```sh\n(.*?)```", text, re.S):
            for line in block.splitlines():
                words = shlex.split(line, comments=True)
                if words[:1] == ["partners"]:
                    found.append(words[1:])
    return found


def test_every_runnable_command_in_the_docs_runs_in_a_fresh_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process, as `partners` runs them (its main); test_cli runs `python -m` once.
    from automations.cli import main

    commands = runnable_commands()
    assert ["nurture", "--baseline"] in commands  # the marked blocks are found
    monkeypatch.chdir(tmp_path)
    for args in [["init"], *commands]:
        code = main(args)
        out, err = capsys.readouterr()
        shown = f"partners {' '.join(args)}: {out}{err}"
        assert code in (0, 1), shown
        assert "Traceback" not in shown and "internal error" not in shown, shown
