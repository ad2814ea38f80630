"""The `partners` command: parse, call one job, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Sequence

# Only light modules here: the commands (pandas and the rest) load after parsing (CLI.md).
from automations.core.vocabulary import NURTURE_KINDS, SIGN_IN_PURPOSES, Action
from automations.errors import ToolkitError, UsageError

EXIT_OK, EXIT_FATAL = 0, 2
# Plain words: argparse shows a choice by its repr when it refuses one.
ONLY_CHOICES = (*(k.value for k in NURTURE_KINDS), Action.ESCALATE.value)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _common() -> _Parser:
    # SUPPRESS keeps a value given before the command when the subparser sees none.
    common = _Parser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="config file (default config/partners.toml or $PARTNERS_CONFIG)",
    )
    common.add_argument(
        "--today",
        default=argparse.SUPPRESS,
        metavar="DATE",
        help="decide as if it were this day (YYYY-MM-DD)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="more detail; a traceback for a bug",
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="print less"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    common = _common()
    parser = _Parser(prog="partners", parents=[common], description="Referral-partner automations.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    init = sub.add_parser(
        "init", parents=[common], help="write config, templates and a sample workbook"
    )
    init.add_argument("folder", nargs="?", default=".", help="the project folder (default: here)")
    sub.add_parser("check", parents=[common], help="validate config and every tab")
    health = sub.add_parser("health", parents=[common], help="decide and write the Health tab")
    health.add_argument("--no-write", action="store_true", help="print only; leave Health as it is")
    health.add_argument("--format", choices=("table", "csv", "json"), default="table")
    nurture = sub.add_parser(
        "nurture", parents=[common], help="Health and every due email (dry run unless --send)"
    )
    mode = nurture.add_mutually_exclusive_group()
    mode.add_argument("--send", action="store_true", help="send (or write to the outbox)")
    mode.add_argument(
        "--baseline",
        action="store_true",
        help="record everything due now as handled and send nothing (first run on a sheet)",
    )
    nurture.add_argument(
        "--only", nargs="+", metavar="ACTION", choices=ONLY_CHOICES, help="only these kinds"
    )
    nurture.add_argument("--limit", type=int, metavar="N", help="send at most N emails this run")
    nurture.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="csv or json: one record per email (kind, to, subject, reason, keys, status)",
    )
    # `make demo`: the main job, but only ever on the local workbook and the outbox.
    nurture.add_argument("--demo", action="store_true", help=argparse.SUPPRESS)
    preview = sub.add_parser(
        "preview", parents=[common], help="render one email exactly as it would be sent"
    )
    preview.add_argument("template", help="template name, e.g. thank (templates/thank.md)")
    preview.add_argument("--partner", required=True, metavar="EMAIL")
    preview.add_argument("--html", action="store_true", help="print the HTML part instead")
    campaign = sub.add_parser(
        "campaign", parents=[common], help="one-off outreach: each partner at most once"
    )
    campaign.add_argument(
        "file", help="a campaign file, e.g. config/campaigns/prospects-intro.toml"
    )
    campaign.add_argument("--send", action="store_true", help="send (or write to the outbox)")
    campaign.add_argument("--limit", type=int, metavar="N", help="reach at most N partners now")
    survey = sub.add_parser(
        "survey", parents=[common], help="quarterly survey emails, or `survey report`"
    )
    survey.add_argument("report", nargs="?", choices=["report"], help="print the survey report")
    survey.add_argument("--send", action="store_true", help="send (or write to the outbox)")
    survey.add_argument("--format", choices=("table", "csv", "json"), default="table")
    statement = sub.add_parser(
        "statement", parents=[common], help="the quarterly referral statements due"
    )
    statement.add_argument("--send", action="store_true", help="send (or write to the outbox)")
    digest = sub.add_parser("digest", parents=[common], help="the weekly summary to each owner")
    digest.add_argument("--send", action="store_true", help="send (or write to the outbox)")
    schedule = sub.add_parser(
        "schedule", parents=[common], help="run the [schedule] jobs until stopped"
    )
    schedule.add_argument(
        "--calendar-port",
        type=int,
        metavar="PORT",
        help="also serve `partners calendar`'s feed at http://127.0.0.1:PORT/calendar.ics",
    )
    review = sub.add_parser(
        "review", parents=[common], help="the proposals waiting for approval, decided"
    )
    review.add_argument("--send", nargs="+", default=[], metavar="KEY", help="approve these")
    review.add_argument("--all", action="store_true", help="approve every waiting proposal")
    review.add_argument("--skip", nargs="+", default=[], metavar="KEY", help="never send these")
    review.add_argument(
        "--later",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "DATE"),
        help="ask again on DATE (YYYY-MM-DD)",
    )
    calendar = sub.add_parser(
        "calendar", parents=[common], help="what comes due, as an iCalendar file of reminders"
    )
    calendar.add_argument(
        "--ics", required=True, metavar="FILE", help="the .ics file to write (replaced each time)"
    )
    calendar.add_argument(
        "--owner",
        metavar="EMAIL",
        help="whose partners (the Partners `owner` column; default: the [sender] email)",
    )
    login = sub.add_parser(
        "login", parents=[common], help="sign in once with OAuth (mail, imap or sheet)"
    )
    login.add_argument("what", choices=SIGN_IN_PURPOSES, help="what to sign in to")
    cron = sub.add_parser(
        "cron", parents=[common], help="print what runs [schedule] on this platform"
    )
    cron.add_argument(
        "--for",
        dest="platform",
        choices=("cron", "systemd", "launchd", "windows"),
        default="cron",
        help="crontab lines (default), systemd units, launchd agents or schtasks commands",
    )
    sub.add_parser(
        "replies", parents=[common], help="read the inbox: record replies, bounces, unsubscribes"
    )
    sub.add_parser(
        "carry-over",
        parents=[common],
        help="bring the history recorded for the sheet this project used before into this one",
    )
    sub.add_parser(
        "link-columns",
        parents=[common],
        help="add once, beside your Partners columns, formulas showing Health's action, "
        "next_due and last_touch",
    )
    resolve = sub.add_parser("resolve", parents=[common], help="settle an uncertain send")
    resolve.add_argument("key")
    settle = resolve.add_mutually_exclusive_group(required=True)
    settle.add_argument("--sent", action="store_true", help="it did arrive: never send it again")
    settle.add_argument("--retry", action="store_true", help="it did not: send it on the next run")
    sandbox = sub.add_parser(
        "sandbox",
        parents=[common],
        help="SMTP, IMAP and a Google Sheet on this machine, to rehearse the real path",
    )
    sandbox.add_argument(
        "folder", nargs="?", default="sandbox", help="the sandbox project (default: sandbox)"
    )
    sandbox.add_argument(
        "--reply",
        nargs=2,
        metavar=("FROM", "TEXT"),
        help="drop into the sandbox inbox a reply from FROM to the latest email they got",
    )
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """The parser, built once per process: a test or the scheduler calls main() many times,
    and parsing leaves it as it was (a list default is copied before `--later` appends)."""
    return build_parser()


def _parsed(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments of one main() call (CLI.md), each list its own: argparse hands a list
    default (`review --send []`) to every parse as the same object, and the parser lives as
    long as the process, so a command that changed one would change the next call's."""
    args = _parser().parse_args(argv)
    for name, value in vars(args).items():
        if isinstance(value, list):
            setattr(args, name, list(value))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args: argparse.Namespace | None = None
    try:
        args = _parsed(argv)
        from automations import commands
        from automations.config import config_path_from, load_settings

        if args.command == "init":
            return commands.init(args)
        if args.command == "sandbox":
            return commands.sandbox(args)
        settings = load_settings(config_path_from(getattr(args, "config", None)))
        return commands.COMMANDS[args.command](args, settings)
    except ToolkitError as exc:
        print(f"partners: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("partners: interrupted", file=sys.stderr)
        return EXIT_FATAL
    except BrokenPipeError:  # `partners health | head`: the reader has all it wanted
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (Python flushes it at exit)
        return EXIT_OK
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception:  # a bug, not a user mistake: one line, traceback only with -v
        if args is not None and getattr(args, "verbose", False):
            traceback.print_exc()
        else:
            print("partners: internal error (run again with -v for details)", file=sys.stderr)
        return EXIT_FATAL
