"""The `partners` command: parse, call one job, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from automations import jobs, report
from automations.config import Settings, config_path_from, load_settings
from automations.errors import ToolkitError
from automations.tables import Problem

EXIT_OK, EXIT_PROBLEMS, EXIT_FATAL = 0, 1, 2


class UsageError(ToolkitError):
    """A command line the toolkit cannot act on."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _common() -> _Parser:
    # SUPPRESS keeps a value given before the command when the subparser sees none.
    common = _Parser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default config/partners.toml or $PARTNERS_CONFIG)",
    )
    common.add_argument(
        "--today", default=argparse.SUPPRESS, help="decide as if it were this day (YYYY-MM-DD)"
    )
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS)
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    common = _common()
    parser = _Parser(prog="partners", parents=[common], description="Referral-partner automations.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    init = sub.add_parser(
        "init", parents=[common], help="write config, templates and a sample workbook"
    )
    init.add_argument("folder", nargs="?", default=".")
    sub.add_parser("check", parents=[common], help="validate config and every tab")
    health = sub.add_parser("health", parents=[common], help="decide and write the Health tab")
    health.add_argument("--no-write", action="store_true", help="print only; leave Health as it is")
    health.add_argument("--format", choices=("table", "csv", "json"), default="table")
    return parser


def _today(args: argparse.Namespace, settings: Settings | None) -> dt.date:
    text = getattr(args, "today", None)
    if text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise UsageError(f"--today {text!r} is not a date (write YYYY-MM-DD)") from exc
    zone = settings.zone if settings else None
    return dt.datetime.now(zone).date()


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(report.problem_line(problem), file=sys.stderr)


def _code(problems: Sequence[Problem]) -> int:
    return EXIT_PROBLEMS if problems else EXIT_OK


def _init(args: argparse.Namespace) -> int:
    result = jobs.run_init(Path(args.folder), _today(args, None))
    for path in result.created:
        print(f"created {path}")
    for path in result.kept:
        print(f"kept    {path} (already there)")
    if not getattr(args, "quiet", False):
        print("next: `partners health` to see what each relationship needs")
    return EXIT_OK


def _check(args: argparse.Namespace, settings: Settings) -> int:
    result = jobs.run_health(settings, _today(args, settings), write=False)
    _print_problems(result.problems)
    t = result.tables
    print(
        f"{len(t.partners)} partners, {len(t.referrals)} referrals, {len(t.touches)} touches, "
        f"{len(t.survey)} survey responses, {len(t.log)} log rows read; "
        f"{len(result.problems)} problem(s)"
    )
    return _code(result.problems)


def _health(args: argparse.Namespace, settings: Settings) -> int:
    result = jobs.run_health(settings, _today(args, settings), write=not args.no_write)
    _print_problems(result.problems)
    health = result.decisions.health
    if args.format == "json":
        print(report.as_json(health))
    elif args.format == "csv":
        print(report.as_csv(health), end="")
    else:
        print(report.as_table(health))
        if result.wrote and not getattr(args, "quiet", False):
            print(f"Health written ({len(health)} rows).")
    return _code(result.problems)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        if args.command == "init":
            return _init(args)
        settings = load_settings(config_path_from(getattr(args, "config", None)))
        if args.command == "check":
            return _check(args, settings)
        return _health(args, settings)
    except ToolkitError as exc:
        print(f"partners: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("partners: interrupted", file=sys.stderr)
        return EXIT_FATAL
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception:  # a bug, not a user mistake: one line, traceback only with -v
        if args is not None and getattr(args, "verbose", False):
            traceback.print_exc()
        else:
            print("partners: internal error (run again with -v for details)", file=sys.stderr)
        return EXIT_FATAL
