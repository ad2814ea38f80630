"""The `partners` command: parse, call one job, print, map errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from automations import console as report
from automations.config import Settings, config_path_from, load_settings
from automations.core.review import Decision, Proposal
from automations.core.tables import Problem
from automations.errors import ToolkitError
from automations.jobs import approval, maintenance
from automations.jobs import health as health_job
from automations.jobs import login as login_job
from automations.jobs import nurture as nurture_job
from automations.jobs import preview as preview_job
from automations.jobs import survey as survey_job
from automations.jobs.wiring import mail_capabilities

EXIT_OK, EXIT_PROBLEMS, EXIT_FATAL = 0, 1, 2
ONLY_CHOICES = (*nurture_job.KINDS, "escalate")
PROGRESS_FROM = 6  # show progress when sending more than a handful


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
    digest = sub.add_parser("digest", parents=[common], help="the weekly summary to each owner")
    digest.add_argument("--send", action="store_true", help="send (or write to the outbox)")
    sub.add_parser("schedule", parents=[common], help="run the [schedule] jobs until stopped")
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
    login = sub.add_parser(
        "login", parents=[common], help="sign in once with OAuth (mail, imap or sheet)"
    )
    login.add_argument("what", choices=login_job.PURPOSES, help="what to sign in to")
    sub.add_parser("cron", parents=[common], help="print crontab lines equivalent to [schedule]")
    sub.add_parser(
        "replies", parents=[common], help="read the inbox: record replies, bounces, unsubscribes"
    )
    sub.add_parser(
        "carry-over",
        parents=[common],
        help="bring the history recorded for the sheet this project used before into this one",
    )
    resolve = sub.add_parser("resolve", parents=[common], help="settle an uncertain send")
    resolve.add_argument("key")
    settle = resolve.add_mutually_exclusive_group(required=True)
    settle.add_argument("--sent", action="store_true", help="it did arrive: never send it again")
    settle.add_argument("--retry", action="store_true", help="it did not: send it on the next run")
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


def _clock(settings: Settings) -> Callable[[], dt.datetime]:
    """The real time in the configured zone (the Log records it even with --today)."""
    zone = settings.zone
    return lambda: (
        dt.datetime.now(dt.UTC).astimezone(zone) if zone else dt.datetime.now().astimezone()
    )


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(report.problem_line(problem), file=sys.stderr)


def _code(problems: Sequence[Problem]) -> int:
    return EXIT_PROBLEMS if problems else EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from automations.jobs.init import run_init

    result = run_init(Path(args.folder), _today(args, None))
    for path in result.created:
        print(f"created {path}")
    for path in result.kept:
        print(f"kept    {path} (already there)")
    if not getattr(args, "quiet", False):
        print("next: `partners health` to see what each relationship needs")
    return EXIT_OK


def _check(args: argparse.Namespace, settings: Settings) -> int:
    today = _today(args, settings)
    clock = _clock(settings)
    result = nurture_job.run_nurture(settings, today, clock, nurture_job.NurtureOptions())
    _print_problems(result.problems)
    for fault in result.faults:
        print(f"partners: {fault}", file=sys.stderr)
    template_faults = preview_job.check_templates(settings, today, clock())
    for fault in template_faults:
        print(f"partners: {fault}", file=sys.stderr)
    for key in result.uncertain:
        print(
            f"partners: uncertain: {key} (may or may not have arrived; settle it with "
            f"`partners resolve {key} --sent` or `--retry`)",
            file=sys.stderr,
        )
    t = result.tables
    print(
        f"{len(t.partners)} partners, {len(t.referrals)} referrals, {len(t.touches)} touches, "
        f"{len(t.survey)} survey responses, {len(t.log)} log rows read; "
        f"{len(result.problems)} problem(s)"
    )
    for note in result.sign_in_notes:
        print(f"partners: {note}", file=sys.stderr)
    login, cannot = maintenance.check_mail(settings)
    print(login)
    for line in cannot:
        print(f"partners: {line}", file=sys.stderr)
    for line in login_job.sign_in_lines(settings):
        print(line)
    if result.inbox is not None and not result.inbox.error:
        print(
            f"inbox: {settings.imap.host}:{settings.imap.port} read: OK. {report.inbox_line(result.inbox, recorded=False)}"
        )
    if settings.survey.form_url and not settings.survey.respondent_field:
        print(f"partners: {nurture_job.NO_RESPONDENT_FIELD}", file=sys.stderr)
    sample_sender = mail_capabilities(settings).delivers and settings.sender.email.endswith(
        ".example"
    )
    if sample_sender:
        print(
            f"partners: [sender] email is still {settings.sender.email!r} (the sample's); "
            "set your own address before sending",
            file=sys.stderr,
        )
    for line in report.old_proposals(approval.waiting(settings), today):
        print(line)
    troubled = (
        result.problems
        or result.faults
        or template_faults
        or result.uncertain
        or sample_sender
        or cannot
    )
    return EXIT_PROBLEMS if troubled else EXIT_OK


def _health(args: argparse.Namespace, settings: Settings) -> int:
    result = health_job.run_health(
        settings, _today(args, settings), _clock(settings)(), write=not args.no_write
    )
    _print_problems(result.problems)
    for line in result.warnings:
        print(f"partners: {line}", file=sys.stderr)
    health = result.decisions.health
    if args.format == "json":
        print(report.as_json(health))
    elif args.format == "csv":
        print(report.as_csv(health), end="")
    else:
        print(report.as_table(health))
        if result.wrote and not getattr(args, "quiet", False):
            print(f"Health written ({len(health)} rows).")
    if result.write_error:
        print(f"partners: {result.write_error}", file=sys.stderr)
        return EXIT_FATAL
    return _code(result.problems)


def _progress(quiet: bool) -> report.SendingProgress:
    return report.SendingProgress(quiet, PROGRESS_FROM)


def _finish(result: nurture_job.NurtureResult, settings: Settings, quiet: bool) -> int:
    """Print what a nurture-shaped run did (stdout) and what needs a look (stderr)."""
    _print_problems(result.problems)
    for line in report.nurture_lines(result, settings, quiet):
        print(line)
    for line in report.nurture_warnings(result):
        print(f"partners: {line}", file=sys.stderr)
    return result.exit_code


def _demo_refusal(settings: Settings) -> str:
    """Why `make demo` will not run on this config ("" when it is the local demo set-up)."""
    real = []
    if mail_capabilities(settings).delivers:
        real.append(f"sends by SMTP through {settings.mail.host or 'a server'}")
    if settings.sheet.backend != "xlsx":
        real.append("works on a Google Sheet")
    if not real:
        return ""
    return (
        f"make demo only ever demos, and config/partners.toml {' and '.join(real)}: nothing "
        "was sent or written. The real job is `partners nurture --send` (try `partners "
        "nurture` first: a dry run)."
    )


def _nurture(args: argparse.Namespace, settings: Settings) -> int:
    if args.demo:
        refusal = _demo_refusal(settings)
        if refusal:
            print(refusal)
            return EXIT_OK
    only = tuple("escalation" if a == "escalate" else a for a in (args.only or ()))
    if args.limit is not None and args.limit < 0:
        raise UsageError("partners nurture: --limit must be 0 or more")
    options = nurture_job.NurtureOptions(
        send=args.send, baseline=args.baseline, only=only, limit=args.limit
    )
    quiet = bool(getattr(args, "quiet", False))
    with contextlib.closing(_progress(quiet)) as progress:
        result = nurture_job.run_nurture(
            settings, _today(args, settings), _clock(settings), options, progress
        )
    if args.format != "table":
        _print_problems(result.problems)
        print(report.records_as(report.email_records(result), args.format))
        for line in report.nurture_warnings(result):
            print(f"partners: {line}", file=sys.stderr)
        return result.exit_code
    code = _finish(result, settings, quiet)
    if args.demo:
        print(report.demo_hint(result, settings))
    return code


def _preview(args: argparse.Namespace, settings: Settings) -> int:
    preview = preview_job.run_preview(
        settings, _today(args, settings), _clock(settings)(), args.template, args.partner
    )
    print(preview.label)
    print()
    print(report.preview_text(preview.prepared, html=args.html))
    return EXIT_OK


def _campaign(args: argparse.Namespace, settings: Settings) -> int:
    from automations.jobs.campaign import run_campaign

    if args.limit is not None and args.limit < 0:
        raise UsageError("partners campaign: --limit must be 0 or more")
    quiet = bool(getattr(args, "quiet", False))
    result = run_campaign(
        settings,
        _today(args, settings),
        _clock(settings),
        Path(args.file),
        args.send,
        args.limit,
        progress := _progress(quiet),
    )
    progress.close()
    _print_problems(result.problems)
    for line in report.campaign_lines(result, settings, args.send):
        print(line)
    for line in [
        *result.warnings,
        *report.delivery_warnings(result.faults, result.report, result.write_error),
    ]:
        print(f"partners: {line}", file=sys.stderr)
    return result.exit_code


def _survey(args: argparse.Namespace, settings: Settings) -> int:
    if args.report:
        frame = survey_job.run_survey_report(settings, _today(args, settings), _clock(settings)())
        print(report.survey_report(frame, args.format))
        return EXIT_OK
    if not settings.survey.form_url:
        raise UsageError("partners survey: set [survey] form_url first (the README shows how)")
    options = nurture_job.NurtureOptions(send=args.send, only=("survey",), owner_surveys=True)
    quiet = bool(getattr(args, "quiet", False))
    with contextlib.closing(_progress(quiet)) as progress:
        result = nurture_job.run_nurture(
            settings, _today(args, settings), _clock(settings), options, progress
        )
    return _finish(result, settings, quiet)


def _digest(args: argparse.Namespace, settings: Settings) -> int:
    options = nurture_job.NurtureOptions(send=args.send, digest=True)
    result = nurture_job.run_nurture(settings, _today(args, settings), _clock(settings), options)
    quiet = bool(getattr(args, "quiet", False))
    if not quiet:  # the same summary as the email, in the terminal
        for prepared in result.to_send:
            print(f"--- digest for {prepared.draft.to_email}: {prepared.subject}")
            print(prepared.rendered.text)
    return _finish(result, settings, quiet)


def _schedule(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from automations.jobs.scheduler import run_schedule

    logging.basicConfig(
        level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    run_schedule(settings, config_path_from(getattr(args, "config", None)).resolve())
    return EXIT_OK


def _cron(args: argparse.Namespace, settings: Settings) -> int:
    from automations.jobs.scheduler import cron_lines

    script = Path(sys.executable).parent / "partners"
    command = str(script) if script.exists() else f"{sys.executable} -m automations"
    for line in cron_lines(settings, settings.base_dir, command):
        print(line)
    return EXIT_OK


def _replies(args: argparse.Namespace, settings: Settings) -> int:
    result = maintenance.run_replies(settings, _clock(settings))
    print(report.inbox_line(result.inbox))
    if result.write_error:
        print(f"partners: {result.write_error}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK


def _resolve(args: argparse.Namespace, settings: Settings) -> int:
    done = maintenance.run_resolve(settings, args.key, args.sent, _clock(settings))
    what = "sent: it will not be sent again" if args.sent else "due again on the next run"
    print(f"{done.key}: recorded as {what}.")
    if done.write_error:
        print(f"partners: {done.write_error}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK


def _review(args: argparse.Namespace, settings: Settings) -> int:
    today = _today(args, settings)
    chosen: dict[str, Decision] = {}
    if args.all:
        chosen.update((p.ident, Decision("send")) for p in approval.waiting(settings))
    chosen.update((k, Decision("send")) for k in args.send)
    chosen.update((k, Decision("skip")) for k in args.skip)
    for key, day in args.later:
        chosen[key] = Decision("later", _later_day(day, today, f"partners review --later {key}"))
    interrupted = False
    if not chosen:
        proposals = approval.waiting(settings)
        if not proposals:
            print("Nothing waits for your approval.")
            return EXIT_OK
        if not sys.stdin.isatty():
            print(report.proposals_table(proposals))
            print(
                "Decide with `partners review` in a terminal, or --send KEY / --skip KEY / --later KEY DATE."
            )
            return EXIT_OK

        def keep(pid: str, decision: Decision) -> None:
            approval.keep(settings, pid, decision, _clock(settings))

        chosen, interrupted = _ask(proposals, today, keep)
    recorded = approval.record(settings, chosen, _clock(settings))
    print(report.recorded_line(recorded.applied))
    if recorded.deferred:
        print(
            "Another partners run is working on this sheet: your decisions are kept and "
            "apply when it ends (approved emails go with the next sending run)."
        )
        return EXIT_OK
    if interrupted:
        print("Interrupted: your decisions are kept; approved emails go with the next run.")
        return EXIT_OK
    if not recorded.applied:
        return EXIT_OK
    options = nurture_job.NurtureOptions(send=True, approved_only=True)
    quiet = bool(getattr(args, "quiet", False))
    with contextlib.closing(_progress(quiet)) as progress:
        result = nurture_job.run_nurture(settings, today, _clock(settings), options, progress)
    return _finish(result, settings, quiet)


def _later_day(text: str, today: dt.date, what: str) -> dt.date:
    """A `later` day: a date after today (a past day would only show the proposal again)."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{what} {text!r}: write the date as YYYY-MM-DD") from None
    if day <= today:
        raise UsageError(
            f"{what} {text!r}: that day is not after today ({today}); give a later one"
        )
    return day


def _ask(
    proposals: list[Proposal], today: dt.date, keep: Callable[[str, Decision], None]
) -> tuple[dict[str, Decision], bool]:
    """Each proposal shown as it would be sent; the user's answer for it, kept at once
    (EMAIL.md, review); True when the user stopped with Ctrl-C."""
    chosen: dict[str, Decision] = {}
    try:
        for n, p in enumerate(proposals, start=1):
            print(report.proposal_block(p, n, len(proposals), approval.shown(p)))
            decision = _answer(today)
            if isinstance(decision, str):  # quit
                break
            if decision is not None:
                keep(p.pid, decision)
                chosen[p.ident] = decision
    except (KeyboardInterrupt, EOFError) as stop:
        print()
        return chosen, isinstance(stop, KeyboardInterrupt)
    return chosen, False


def _answer(today: dt.date) -> Decision | str | None:
    """One answer at the prompt: a decision, None for next, "quit"; asked again until clear.
    No one-letter `s`: it could mean send or skip."""
    while True:
        answer = input(report.REVIEW_PROMPT).strip().lower()
        verb, _, rest = answer.partition(" ")
        if verb in ("send", "yes", "y"):
            return Decision("send")
        if verb in ("skip", "k"):
            return Decision("skip")
        if verb in ("later", "l"):
            try:
                return Decision("later", _later_day(rest, today, "later"))
            except UsageError as exc:
                print(f"{exc}. For example: later {today + dt.timedelta(days=7)}")
                continue
        if verb in ("quit", "q"):
            return "quit"
        if verb in ("next", "n", ""):
            return None
        print(f"Answer one of: {report.REVIEW_PROMPT}")


def _login(args: argparse.Namespace, settings: Settings) -> int:
    print(login_job.run_login(settings, args.what, lambda line: print(line, flush=True)))
    return EXIT_OK


def _carry_over(args: argparse.Namespace, settings: Settings) -> int:
    done = maintenance.run_carry_over(settings, _clock(settings))
    if not done.carried:
        print("Nothing to carry over: the journal holds no rows of another sheet.")
    else:
        print(
            f"Carried over {len(done.carried)} row(s) from the sheet(s) this project used "
            "before; they are in this sheet's Log now and count as this sheet's history."
        )
    if done.write_error:
        print(f"partners: {done.write_error}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        if args.command == "init":
            return _init(args)
        settings = load_settings(config_path_from(getattr(args, "config", None)))
        command = {
            "check": _check,
            "health": _health,
            "nurture": _nurture,
            "preview": _preview,
            "resolve": _resolve,
            "carry-over": _carry_over,
            "replies": _replies,
            "campaign": _campaign,
            "schedule": _schedule,
            "survey": _survey,
            "digest": _digest,
            "cron": _cron,
            "login": _login,
            "review": _review,
        }[args.command]
        return command(args, settings)
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
