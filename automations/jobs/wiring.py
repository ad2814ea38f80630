"""Jobs: wire a sheet backend, the tables, the rules and (later) mail together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import pandas as pd

from automations.adapters.auth import Account, OAuthTokens, loosened
from automations.adapters.mail import Capabilities, Mailer
from automations.adapters.sheet import SheetBackend
from automations.adapters.state import Journal
from automations.config import Settings, secret
from automations.core.engine.decisions import HEALTH_COLUMNS, DecideOptions
from automations.core.mail.draft import Draft
from automations.core.mail.letterhead import Letterhead, Sender, SurveyForm
from automations.core.render import TEMPLATE_SUFFIX, Templates, TemplateSource
from automations.core.tables import RawSheet, Tables, build_tables
from automations.core.vocabulary import Kind
from automations.errors import ConfigError


def open_backend(settings: Settings) -> SheetBackend:
    """The sheet backend named in the config."""
    if settings.sheet.backend == "xlsx":
        from automations.adapters.sheet.xlsx import XlsxBackend

        workbook = settings.resolve(settings.sheet.path)
        return XlsxBackend(workbook, settings.sheet.tabs, project=settings.base_dir)
    from automations.adapters.auth import sheets_desktop_credentials
    from automations.adapters.sheet.google import GoogleBackend, load_credentials

    sheet = settings.sheet
    path = sheet.credentials or secret("GOOGLE_APPLICATION_CREDENTIALS", settings)
    return GoogleBackend(
        sheet.spreadsheet,
        sheet.tabs,
        lambda: load_credentials(
            str(settings.resolve(path)) if path else "", sheets_desktop_credentials
        ),
        emulator_host=secret("SHEETS_EMULATOR_HOST", settings),  # the sandbox puts it in .env
        date_order=sheet.date_order,
    )


def mail_capabilities(settings: Settings) -> Capabilities:
    """What the configured kind of mailer does (without connecting to anything)."""
    if settings.mail.backend == "outbox":
        from automations.adapters.mail.outbox import OutboxMailer

        return OutboxMailer.capabilities
    from automations.adapters.mail.smtp import SmtpMailer

    return SmtpMailer.capabilities


def open_mailer(settings: Settings) -> Mailer:
    """The mail backend named in the config (the outbox folder, or an SMTP server)."""
    mail = settings.mail
    if mail.backend == "outbox":
        from automations.adapters.mail.outbox import OutboxMailer

        return OutboxMailer(settings.resolve(mail.outbox_dir))
    from automations.adapters.mail.smtp import SmtpMailer

    if not mail.host:
        raise ConfigError('[mail] backend is "smtp" but [mail] host is empty')
    if mail.auth == "oauth":
        return SmtpMailer(
            host=mail.host,
            port=mail.port,
            security=mail.security,
            username=mail.username,
            oauth_token=OAuthTokens(oauth_account(settings, "mail")).access_token,
            timeout=mail.timeout,
            ca_file=str(settings.resolve(mail.ca_file)) if mail.ca_file else "",
            attempts=mail.retry_attempts,
            backoff=mail.retry_backoff,
            max_per_minute=mail.max_per_minute,
        )
    password = secret("PARTNERS_SMTP_PASSWORD", settings)
    if mail.username and not password:
        raise ConfigError(
            "[mail] username is set but PARTNERS_SMTP_PASSWORD is not "
            "(set it in the environment or in a .env file next to config/)"
        )
    return SmtpMailer(
        host=mail.host,
        port=mail.port,
        security=mail.security,
        username=mail.username,
        password=password,
        timeout=mail.timeout,
        ca_file=str(settings.resolve(mail.ca_file)) if mail.ca_file else "",
        attempts=mail.retry_attempts,
        backoff=mail.retry_backoff,
        max_per_minute=mail.max_per_minute,
    )


def mail_signed_in(settings: Settings) -> None:
    """Before any connection: the saved OAuth sign-in for [mail] is there and sound
    (LoginNeeded when not, so nothing is tried; EMAIL.md, "Signing in")."""
    if "mail" in oauth_purposes(settings):
        OAuthTokens(oauth_account(settings, "mail")).load()


def sign_in_notes(settings: Settings) -> list[str]:
    """What the user should know of each saved OAuth sign-in before a run uses (and
    rewrites) it: one others could read is made private again (EMAIL.md, "Signing in")."""
    notes = []
    for purpose in oauth_purposes(settings):
        note = loosened(oauth_account(settings, purpose).cache)
        notes += [note] if note else []
    return notes


def oauth_purposes(settings: Settings) -> list[str]:
    """`mail` and `imap`, each when it signs in with OAuth."""
    mail, imap = settings.mail, settings.imap
    return [
        purpose
        for purpose, used in (
            ("mail", mail.backend == "smtp" and mail.auth == "oauth"),
            ("imap", bool(imap.host) and imap.auth == "oauth"),
        )
        if used
    ]


def oauth_account(settings: Settings, purpose: str) -> Account:
    """The OAuth account of `[mail]` (purpose `mail`) or `[imap]` (EMAIL.md, "Signing in")."""
    section = settings.mail if purpose == "mail" else settings.imap
    if not section.provider:
        raise ConfigError(
            f'[{purpose}] auth = "oauth" needs [{purpose}] provider = "google" or "microsoft"'
        )
    if not section.username:
        raise ConfigError(
            f'[{purpose}] auth = "oauth" needs [{purpose}] username: the mailbox you sign in as'
        )
    client_file = section.client_secret_file
    return Account(
        purpose=purpose,
        provider=section.provider,
        username=section.username,
        client_id=section.client_id,
        tenant=section.tenant,
        client_secret_file=str(settings.resolve(client_file)) if client_file else "",
    )


def shipped_files(part: str) -> Traversable:
    """The shipped `templates` or `config` folder: inside an installed wheel the packaging
    put them in `automations/_shipped/`; in a clone (an editable install) they are the
    repository's own top-level folders, the one source (ARCHITECTURE.md)."""
    packaged = resources.files("automations") / "_shipped" / part
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / part


def state_dir(settings: Settings) -> Path:
    """`state/` in the project folder: the journal and the run lock."""
    return settings.resolve("state")


def load_templates(settings: Settings) -> Templates:
    """The project's `templates/*.md`, with the shipped ones for any kind it lacks."""
    sources: dict[str, TemplateSource] = {}
    shipped = shipped_files("templates")
    if shipped.is_dir():
        for item in shipped.iterdir():
            if item.name.endswith(TEMPLATE_SUFFIX):
                name = item.name.removesuffix(TEMPLATE_SUFFIX)
                text = item.read_text(encoding="utf-8")
                sources[name] = TemplateSource(name, f"(shipped) {item.name}", text)
    folder = settings.resolve("templates")
    if folder.is_dir():
        for path in sorted(folder.glob("*" + TEMPLATE_SUFFIX)):
            name = path.name.removesuffix(TEMPLATE_SUFFIX)
            label = f"templates/{path.name}"
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                why = (
                    f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8 in your "
                    "editor"
                )
                sources[name] = TemplateSource(name, label, "", unreadable=why)
                continue
            except OSError as exc:
                why = f"the file cannot be read ({exc.strerror or exc})"
                sources[name] = TemplateSource(name, label, "", unreadable=why)
                continue
            sources[name] = TemplateSource(name, label, text)
    return Templates(sources)


def tab_titles(settings: Settings) -> dict[str, str]:
    """Table name -> tab title in the sheet."""
    t = settings.sheet.tabs
    return {
        "partners": t.partners,
        "referrals": t.referrals,
        "touches": t.touches,
        "survey": t.survey,
        "unsubscribes": t.unsubscribes,
        "log": t.log,
    }


def tables_from(settings: Settings, raw: RawSheet, today: dt.date) -> Tables:
    """The typed tables of a raw sheet, with the config's tab names and reading options."""
    return build_tables(
        raw,
        today,
        tab_titles(settings),
        date_order=settings.sheet.date_order,
        zone=settings.zone,
        survey_columns=settings.survey.columns,
    )


def letterhead(settings: Settings) -> Letterhead:
    """The sender, survey form and opt-out link every email carries, from the config."""
    sender, survey = settings.sender, settings.survey
    return Letterhead(
        Sender(
            sender.name,
            sender.email,
            sender.reply_to,
            sender.signature,
            sender.currency,
            sender.pitch,
        ),
        SurveyForm(survey.form_url, survey.email_field, survey.respondent_field),
        settings.mail.unsubscribe_url,
        secret("PARTNERS_UNSUBSCRIBE_SECRET", settings),
    )


def unsubscribe_url_unused(settings: Settings) -> list[str]:
    """Why `[mail] unsubscribe_url` goes in no email, if it is set and does not (EMAIL.md:
    it is only advertised when it names the recipient); said by `partners check`, since a
    run leaves it out without a word."""
    url = settings.mail.unsubscribe_url
    if url and "{email}" not in url:
        why = "it has no {email} where the recipient's address goes"
    elif "{token}" in url and not secret("PARTNERS_UNSUBSCRIBE_SECRET", settings):
        why = "it has {token} but PARTNERS_UNSUBSCRIBE_SECRET is not set (environment or .env)"
    else:
        return []
    return [
        f"[mail] unsubscribe_url is left out of every email: {why}; only the reply-to "
        "unsubscribe is offered (docs/emails.md shows such an address)"
    ]


def decide_options(settings: Settings) -> DecideOptions:
    """The options of `decide` that come from the config."""
    return DecideOptions(
        sender_email=settings.sender.email.lower(),
        survey_enabled=bool(settings.survey.form_url),
        statement_enabled=settings.statement.every != "none",
        count_written=not mail_capabilities(settings).delivers,
    )


def health_rows(health: pd.DataFrame) -> list[list[Any]]:
    """The Health tab as rows of plain values (str, float, date, bool, None), header first;
    converted a column at a time."""
    columns = []
    for name in HEALTH_COLUMNS:
        values = health[name]
        # As numpy: the same plain values, without a Series built for each step.
        if pd.api.types.is_datetime64_dtype(values):  # naive dates (no zone)
            plain = values.to_numpy().astype("datetime64[D]").astype(object)
        elif pd.api.types.is_datetime64_any_dtype(values):  # with a zone: its own dates
            plain = values.dt.date.to_numpy(dtype=object, copy=True)
        else:
            plain = values.to_numpy(dtype=object, copy=True)
        plain[values.isna().to_numpy()] = None
        columns.append(plain.tolist())
    return [list(HEALTH_COLUMNS), *map(list, zip(*columns, strict=True))]


def quote_outreach(drafts: Iterable[Draft], journal: Journal) -> None:
    """Give each follow-up the first lines of the outreach it follows, as the journal kept
    them, to quote for mail programs that do not thread (EMAIL.md)."""
    follow_ups = [d for d in drafts if d.kind == Kind.FOLLOW_UP and d.thread_message_id]
    if not follow_ups:
        return
    kept = journal.openings(d.thread_message_id for d in follow_ups)
    for draft in follow_ups:
        text = kept.get(draft.thread_message_id, "")
        if text:
            draft.context["outreach"]["opening"] = text
            draft.context["outreach"]["opening_lines"] = text.split("\n\n")
