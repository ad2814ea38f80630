"""What each `partners` command does once its line is parsed: call one job, print, return
the exit code (CLI.md). Imported only after parsing, so `partners --help` stays fast."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from automations import console as report
from automations.commands.calendar import calendar
from automations.commands.common import (
    EXIT_FATAL,
    EXIT_OK,
    EXIT_PROBLEMS,
    clock_of,
    code_of,
    finish,
    print_problems,
    progress_of,
    today_of,
)
from automations.commands.link import link_columns
from automations.commands.review import review
from automations.commands.statement import statement
from automations.config import Settings, config_path_from
from automations.core.vocabulary import Action, Kind
from automations.core.wording import greeting_lines
from automations.errors import UsageError
from automations.jobs import health as health_job
from automations.jobs import login as login_job
from automations.jobs import maintenance, pipeline, scheduler
from automations.jobs import preview as preview_job
from automations.jobs import survey as survey_job
from automations.jobs.envelope import partners_in_bcc
from automations.jobs.plans import PLANS, nurture
from automations.jobs.plans.planned import Planned
from automations.jobs.plans.survey import NO_RESPONDENT_FIELD
from automations.jobs.review import command as approval
from automations.jobs.wiring import mail_capabilities, unsubscribe_url_unused


def init(args: argparse.Namespace) -> int:
    from automations.jobs.init import run_init

    result = run_init(Path(args.folder), today_of(args, None))
    if getattr(args, "quiet", False):
        return EXIT_OK
    for path in result.created:
        print(f"created {path}")
    for path in result.kept:
        print(f"kept    {path} (already there)")
    here = Path(args.folder).resolve() == Path.cwd().resolve()
    go = "" if here else f"cd {args.folder} && "
    print(f"next: `{go}partners health` to see what each relationship needs")
    return EXIT_OK


def _check(args: argparse.Namespace, settings: Settings) -> int:
    scheduler.parse_slots(settings.schedule.jobs)  # as `schedule` and `cron` would refuse it
    today = today_of(args, settings)
    clock = clock_of(settings)
    result = pipeline.run(settings, today, clock, PLANS["nurture"], pipeline.RunOptions())
    print_problems(result.problems)
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
    for line in greeting_lines(t.partners):
        print(f"partners: {line}", file=sys.stderr)
    print(
        f"{len(t.partners)} partners, {len(t.referrals)} referrals, {len(t.touches)} touches, "
        f"{len(t.survey)} survey responses, {len(t.log)} log rows read; "
        f"{len(result.problems)} problem(s)"
    )
    for note in result.sign_in_notes:
        print(f"partners: {note}", file=sys.stderr)
    mail_troubled = _check_mail(settings, result)
    for line in report.old_proposals(approval.waiting(settings), today):
        print(line)
    troubled = (
        result.problems or result.faults or template_faults or result.uncertain or mail_troubled
    )
    return EXIT_PROBLEMS if troubled else EXIT_OK


def _check_mail(settings: Settings, result: pipeline.RunResult[Planned]) -> bool:
    """`partners check`'s mail lines: copies, the login, the inbox, the survey form and the
    sender; True when one needs a look."""
    in_bcc = partners_in_bcc(settings, result.tables.partners["email"])
    for line in in_bcc:
        print(f"partners: {line}", file=sys.stderr)
    login, cannot = maintenance.check_mail(settings)
    print(login)
    for line in cannot:
        print(f"partners: {line}", file=sys.stderr)
    for line in login_job.sign_in_lines(settings):
        print(line)
    if result.inbox is not None and not result.inbox.error:
        said = report.inbox_line(result.inbox, recorded=False)
        print(f"inbox: {settings.imap.host}:{settings.imap.port} read: OK. {said}")
    if settings.survey.form_url and not settings.survey.respondent_field:
        print(f"partners: {NO_RESPONDENT_FIELD}", file=sys.stderr)
    unused = unsubscribe_url_unused(settings)
    for line in unused:
        print(f"partners: {line}", file=sys.stderr)
    sample_sender = mail_capabilities(settings).delivers and settings.sender.email.endswith(
        ".example"
    )
    if sample_sender:
        print(
            f"partners: [sender] email is still {settings.sender.email!r} (the sample's); "
            "set your own address before sending",
            file=sys.stderr,
        )
    return bool(sample_sender or cannot or in_bcc or unused)


def _health(args: argparse.Namespace, settings: Settings) -> int:
    result = health_job.run_health(
        settings, today_of(args, settings), clock_of(settings)(), write=not args.no_write
    )
    print_problems(result.problems)
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
    return code_of(result.problems)


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
    only = tuple(Kind.ESCALATION if a == Action.ESCALATE else a for a in (args.only or ()))
    if args.limit is not None and args.limit < 0:
        raise UsageError("partners nurture: --limit must be 0 or more")
    quiet = bool(getattr(args, "quiet", False))
    today, clock = today_of(args, settings), clock_of(settings)
    if args.baseline:
        from automations.jobs.baseline import run_baseline

        result = run_baseline(settings, today, clock, only)
    else:
        options = pipeline.RunOptions(send=args.send, limit=args.limit)
        plan = nurture.only(only)
        with contextlib.closing(progress_of(quiet)) as progress:
            result = pipeline.run(settings, today, clock, plan, options, progress)
    if args.format != "table":
        print_problems(result.problems)
        print(report.records_as(report.email_records(result), args.format))
        for line in report.nurture_warnings(result):
            print(f"partners: {line}", file=sys.stderr)
        return result.exit_code
    code = finish(result, settings, quiet)
    if args.demo:
        print(report.demo_hint(result, settings))
    return code


def _preview(args: argparse.Namespace, settings: Settings) -> int:
    preview = preview_job.run_preview(
        settings, today_of(args, settings), clock_of(settings)(), args.template, args.partner
    )
    print(preview.label)
    print()
    print(report.preview_text(preview.prepared, html=args.html))
    return EXIT_OK


def _campaign(args: argparse.Namespace, settings: Settings) -> int:
    from automations.jobs.plans.campaign import load_campaign, plan_of

    if args.limit is not None and args.limit < 0:
        raise UsageError("partners campaign: --limit must be 0 or more")
    plan = plan_of(load_campaign(Path(args.file)), str(args.file))
    quiet = bool(getattr(args, "quiet", False))
    options = pipeline.RunOptions(send=args.send, limit=args.limit)
    with contextlib.closing(progress_of(quiet)) as progress:
        result = pipeline.run(
            settings, today_of(args, settings), clock_of(settings), plan, options, progress
        )
    print_problems(result.problems)
    for line in report.campaign_lines(result, settings, args.send):
        print(line)
    for line in report.nurture_warnings(result):
        print(f"partners: {line}", file=sys.stderr)
    return result.exit_code


def _survey(args: argparse.Namespace, settings: Settings) -> int:
    if args.report:
        frame = survey_job.run_survey_report(
            settings, today_of(args, settings), clock_of(settings)()
        )
        print(report.survey_report(frame, args.format))
        return EXIT_OK
    if not settings.survey.form_url:
        raise UsageError(
            "partners survey: set [survey] form_url first (docs/emails.md, The quarterly survey, shows how)"
        )
    options = pipeline.RunOptions(send=args.send)
    quiet = bool(getattr(args, "quiet", False))
    with contextlib.closing(progress_of(quiet)) as progress:
        result = pipeline.run(
            settings,
            today_of(args, settings),
            clock_of(settings),
            PLANS["survey"],
            options,
            progress,
        )
    return finish(result, settings, quiet)


def _digest(args: argparse.Namespace, settings: Settings) -> int:
    options = pipeline.RunOptions(send=args.send)
    result = pipeline.run(
        settings, today_of(args, settings), clock_of(settings), PLANS["digest"], options
    )
    quiet = bool(getattr(args, "quiet", False))
    if not quiet:  # the same summary as the email, in the terminal
        for prepared in result.to_send:
            print(f"--- digest for {prepared.draft.to_email}: {prepared.subject}")
            print(prepared.text)
    return finish(result, settings, quiet)


def _schedule(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from automations.jobs.scheduler import run_schedule

    logging.basicConfig(
        level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    config = config_path_from(getattr(args, "config", None)).resolve()
    if args.calendar_port is None:
        run_schedule(settings, config)
        return EXIT_OK
    if not 0 <= args.calendar_port <= 65535:
        raise UsageError("partners schedule: --calendar-port must be a port, 1 to 65535")
    from automations.jobs.agenda import served

    with served(settings, args.calendar_port, clock_of(settings)) as url:
        logging.getLogger("partners.schedule").info("calendar feed at %s", url)
        run_schedule(settings, config)
    return EXIT_OK


def _cron(args: argparse.Namespace, settings: Settings) -> int:
    from automations.jobs.timers import Target, schedule_text

    script = Path(sys.executable).parent / ("partners.exe" if os.name == "nt" else "partners")
    partners = (str(script),) if script.exists() else (sys.executable, "-m", "automations")
    config = config_path_from(getattr(args, "config", None)).resolve()
    target = Target(settings.base_dir.resolve(), partners, config)
    for line in schedule_text(settings, target, args.platform):
        print(line)
    return EXIT_OK


def _replies(args: argparse.Namespace, settings: Settings) -> int:
    result = maintenance.run_replies(settings, clock_of(settings), today_of(args, settings))
    print(report.inbox_line(result.inbox))
    for line in result.inbox.warnings:
        print(f"partners: {line}", file=sys.stderr)
    if result.write_error:
        print(f"partners: {result.write_error}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK


def _resolve(args: argparse.Namespace, settings: Settings) -> int:
    done = maintenance.run_resolve(settings, args.key, args.sent, clock_of(settings))
    what = "sent: it will not be sent again" if args.sent else "due again on the next run"
    print(f"{done.key}: recorded as {what}.")
    if done.write_error:
        print(f"partners: {done.write_error}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK


def _login(args: argparse.Namespace, settings: Settings) -> int:
    print(login_job.run_login(settings, args.what, lambda line: print(line, flush=True)))
    return EXIT_OK


def _carry_over(args: argparse.Namespace, settings: Settings) -> int:
    done = maintenance.run_carry_over(settings, clock_of(settings))
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


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
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
    "statement": statement,
    "digest": _digest,
    "cron": _cron,
    "login": _login,
    "review": review,
    "link-columns": link_columns,
    "calendar": calendar,
}


def sandbox(args: argparse.Namespace) -> int:
    """`partners sandbox`: start it, or with --reply drop a reply into its inbox (CLI.md)."""
    from automations import sandbox as box
    from automations.config import load_settings
    from automations.jobs.init import run_init

    folder = Path(args.folder).resolve()
    config = folder / "config" / "partners.toml"
    if args.reply:
        if not config.exists():
            raise UsageError(f"no sandbox in {folder}: start one with `partners sandbox`")
        settings = load_settings(config)
        answered = box.reply(
            folder, args.reply[0], args.reply[1], settings.imap.port, settings.sender.email
        )
        print(f"reply from {args.reply[0]} dropped into the sandbox inbox ({answered})")
        return EXIT_OK
    if not config.exists():
        run_init(folder, today_of(args, None))
    user = load_settings(config).sender.email
    box.run_sandbox(folder, user, lambda line: print(line, flush=True))
    return EXIT_OK
