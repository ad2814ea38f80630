"""Shared fixtures: a sheet builder that goes through the real normaliser, and workbooks."""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from automations.core.engine.decide import decide
from automations.core.engine.decisions import DecideOptions, Decisions
from automations.core.engine.rules import Rules
from automations.core.schema import LOG_COLUMNS, SURVEY_ITEMS
from automations.core.tables import RawSheet, Tables, build_tables
from tests import projects
from tests.smtp_server import CERT, USER, SmtpServer

TODAY = dt.date(2026, 6, 15)
SENDER = "me@consult.example"
TITLES = {
    "partners": "Partners",
    "referrals": "Referrals",
    "touches": "Touches",
    "survey": "Survey",
    "log": "Log",
}


# Most rule tests count days to an exact edge; Spreading (RULES.md) would move those edges
# by each address's phase, so the sheet builder turns it off unless a test passes rules.
NO_SPREAD = Rules(spread_days=1, survey_spread_weeks=0)


def ago(days: int | None, today: dt.date = TODAY) -> str | None:
    """ISO date `days` before `today`."""
    return None if days is None else (today - dt.timedelta(days=days)).isoformat()


@dataclass
class Sheet:
    """A sheet built row by row in a test, read through `build_tables` as a user's would be."""

    today: dt.date = TODAY
    partners: list[list[Any]] = field(default_factory=list)
    referrals: list[list[Any]] = field(default_factory=list)
    touches: list[list[Any]] = field(default_factory=list)
    survey: list[list[Any]] = field(default_factory=list)
    log: list[list[Any]] = field(default_factory=list)

    def partner(
        self,
        email: str = "pat@partner.example",
        *,
        name: str = "Pat Lee",
        status: str = "active",
        first_contact: int | None = 400,
        company: str = "Acme",
        cadence: Any = None,
        do_not_email: Any = False,
        fee: Any = None,
        owner: str = "",
        snooze: Any = None,
    ) -> Sheet:
        self.partners.append(
            [
                name,
                email,
                company,
                "agency",
                status,
                owner,
                ago(first_contact, self.today),
                fee,
                cadence,
                do_not_email,
                snooze,
            ]
        )
        return self

    def referral(
        self,
        days: int,
        *,
        email: str = "pat@partner.example",
        direction: str = "received",
        status: str = "new",
        client: str = "Client Co",
        value: Any = None,
        closed: int | None = None,
        fee_paid: Any = None,
        date: str | None = None,
    ) -> Sheet:
        self.referrals.append(
            [
                date or ago(days, self.today),
                direction,
                email,
                client,
                status,
                value,
                ago(closed, self.today),
                fee_paid,
            ]
        )
        return self

    def touch(
        self,
        days: int,
        *,
        email: str = "pat@partner.example",
        direction: str = "in",
        kind: str = "call",
    ) -> Sheet:
        self.touches.append([ago(days, self.today), email, kind, direction])
        return self

    def response(
        self,
        days: int,
        ratings: list[Any],
        *,
        email: str = "pat@partner.example",
        respondent: str = "",
    ) -> Sheet:
        self.survey.append([ago(days, self.today) + " 10:00:00", email, respondent, *ratings])
        return self

    def sent(
        self,
        days: int,
        action: str,
        key: str,
        *,
        email: str = "pat@partner.example",
        status: str = "sent",
        message_id: str = "",
        detail: str = "",
        subject: str = "",
    ) -> Sheet:
        self.log.append(
            [
                ago(days, self.today) + "T09:00:00+00:00",
                "run",
                action,
                email,
                key,
                action,
                subject,
                message_id,
                status,
                detail,
            ]
        )
        return self

    def raw(self) -> RawSheet:
        return RawSheet(
            {
                "Partners": [
                    [
                        "name",
                        "email",
                        "company",
                        "type",
                        "status",
                        "owner",
                        "first_contact",
                        "referral_fee_pct",
                        "cadence_days",
                        "do_not_email",
                        "snooze_until",
                    ],
                    *self.partners,
                ],
                "Referrals": [
                    [
                        "date",
                        "direction",
                        "partner_email",
                        "client",
                        "status",
                        "value",
                        "closed_on",
                        "fee_paid",
                    ],
                    *self.referrals,
                ],
                "Touches": [["date", "partner_email", "kind", "direction"], *self.touches],
                "Survey": [
                    ["timestamp", "partner_email", "respondent", *SURVEY_ITEMS],
                    *self.survey,
                ],
                "Log": [list(LOG_COLUMNS), *self.log],
            }
        )

    def tables(self) -> Tables:
        return build_tables(self.raw(), self.today, TITLES, zone=dt.UTC)

    def decide(
        self, rules: Rules | None = None, *, survey: bool = False, count_written: bool = True
    ) -> Decisions:
        options = DecideOptions(
            sender_email=SENDER, survey_enabled=survey, count_written=count_written
        )
        return decide(self.tables(), self.today, rules or NO_SPREAD, options)

    def row(self, email: str = "pat@partner.example", **kwargs: Any) -> dict[str, Any]:
        health = self.decide(**kwargs).health
        return health.set_index("email").loc[email].to_dict()

    def emails(self, **kwargs: Any) -> pd.DataFrame:
        return self.decide(**kwargs).emails


@pytest.fixture
def sheet() -> Sheet:
    return Sheet()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder set up by `partners init` (config, templates, sample workbook)."""
    from automations.jobs.init import run_init

    run_init(tmp_path, dt.date.today())
    projects.review_off(tmp_path)
    return tmp_path


def set_keys(config: Path, section: str, **values: Any) -> None:
    """Change keys of one [section] of a config file written by `partners init`."""
    lines = config.read_text(encoding="utf-8").splitlines()
    current = ""
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if current == section:
                out.extend(_toml(k, v) for k, v in values.items() if k not in seen)
                seen.update(values)
            current = stripped.strip("[]")
        key = stripped.split("=", 1)[0].strip() if "=" in stripped else ""
        if current == section and key in values:
            out.append(_toml(key, values[key]))
            seen.add(key)
            continue
        out.append(line)
    if current == section:
        out.extend(_toml(k, v) for k, v in values.items() if k not in seen)
    config.write_text("\n".join(out) + "\n", encoding="utf-8")


def _toml(key: str, value: Any) -> str:
    if isinstance(value, list):
        return f"{key} = [{', '.join(repr(str(v)).replace(chr(39), chr(34)) for v in value)}]"
    if isinstance(value, bool):
        return f"{key} = {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"{key} = {value}"
    return f'{key} = "{value}"'


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1 that records every message."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def utf8_smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1 that offers SMTPUTF8."""
    server = SmtpServer(smtputf8=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 that requires STARTTLS and a login."""
    server = SmtpServer(tls=True)
    server.start()
    yield server
    server.stop()


@dataclass
class ImapServer:
    """pymap on 127.0.0.1, one user's mailboxes (password demopass), messages put in with APPEND."""

    port: int
    process: Any
    user: str = "demouser"

    def login(self, conn: Any) -> None:
        conn.login(self.user, "demopass")

    def append(self, raw: bytes, folder: str = "INBOX", arrived: Any = None) -> None:
        """One message; `arrived` (an aware datetime): its INTERNALDATE, else now."""
        self.append_all([raw], folder, arrived)

    def append_all(self, raws: list[bytes], folder: str = "INBOX", arrived: Any = None) -> None:
        """Put these messages in `folder` over one connection, in this order."""
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            self.login(conn)
            when = imaplib.Time2Internaldate(arrived) if arrived else None
            for raw in raws:
                typ, data = conn.append(folder, None, when, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def message_ids(self, folder: str) -> list[str]:
        import imaplib
        from email import message_from_bytes

        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            self.login(conn)
            conn.select(folder, readonly=True)
            _, data = conn.uid("SEARCH", "ALL")
            ids = []
            for uid in (data[0] or b"").split():
                _, got = conn.uid("FETCH", uid, "(BODY.PEEK[HEADER])")
                ids.append(str(message_from_bytes(got[0][1]).get("Message-ID", "")))  # type: ignore[index]
            return ids
        finally:
            conn.logout()


def start_pymap(*command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Any:
    """Start a pymap process (in memory, demo data) on a free loopback port: (port, process)."""
    import socket
    import subprocess
    import time

    from tests.smtp_server import free_port

    port = free_port()
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict", "--demo-data"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return port, process
        except OSError:
            assert time.monotonic() < deadline, "pymap did not start"
            time.sleep(0.1)


@pytest.fixture(scope="session")
def imap_process() -> Iterator[tuple[int, Any]]:
    """One real IMAP server (pymap, in memory) on 127.0.0.1 for the whole run, where every
    login name is a user of its own (tests/imap_users.py): (port, process)."""
    import sys

    root = Path(__file__).resolve().parent.parent
    port, process = start_pymap(sys.executable, "-m", "tests.imap_users", cwd=root)
    yield port, process
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def imap_server(imap_process: tuple[int, Any]) -> ImapServer:
    """A real IMAP server on 127.0.0.1, with a user and mailboxes of this test's own."""
    port, process = imap_process
    return ImapServer(port, process, user=f"user{next(_IMAP_USERS)}")


_IMAP_USERS = itertools.count(1)


def use_imap(
    project: Any, server: ImapServer, monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> None:
    """Add an [imap] section pointing at `server` to the project's config."""
    config = project / "config" / "partners.toml"
    keys: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "username": server.user,
        "timeout": 5.0,
    }
    keys.update(extra)
    set_keys(config, "imap", **keys)
    monkeypatch.setenv("PARTNERS_IMAP_PASSWORD", "demopass")


def use_smtp(project: Path, server: SmtpServer, **extra: Any) -> Path:
    """Point the project's config at `server`; return the config path."""
    config = project / "config" / "partners.toml"
    keys: dict[str, Any] = {
        "backend": "smtp",
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "max_per_minute": 0,
        "retry_backoff": 0.01,
        "timeout": 5.0,
    }
    if server.tls:
        keys.update(security="starttls", username=USER, ca_file=str(CERT))
    keys.update(extra)
    set_keys(config, "mail", **keys)
    # Real mail never goes out with the sample's placeholder form (it would be a broken link).
    set_keys(config, "survey", form_url="https://docs.google.com/forms/d/e/1FAIpQLSeTest/viewform")
    return config


from hypothesis import settings  # noqa: E402

# CI machines are shared: judge correctness, not the speed of a first example. Every property
# test runs the same examples each time and keeps no database of past finds, so a landing
# never depends on a random draw (a find is pinned with @example); CI prints the blob.
settings.register_profile("project", deadline=None, derandomize=True, database=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "project")


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is loaded by now (modules, pandas, hypothesis) lives as long as the run: frozen,
    it is left out of every later full garbage collection (about 5% of the suite's CPU)."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    projects.OPENED.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After every test that ran the toolkit on a project: each run in its Log has exactly
    one `run` row (SHEET.md, Log), unless the test makes a Log write fail on purpose."""
    outcome = yield
    if outcome.excinfo is not None or item.get_closest_marker("log_write_lost"):
        return
    for project in projects.OPENED:
        rows = project.log_rows()
        broken = projects.runs_without_one_run_row(rows)
        assert not broken, f"runs without exactly one `run` row in the Log: {broken}"
        statuses = {r["status"] for r in rows if r.get("action") == "run"}
        assert statuses <= {"ok", "problems", "failed"}, statuses
