"""The saved OAuth sign-in as a hostile world leaves it (EMAIL.md, "Signing in"; issue 22):
a cache of the wrong shape, one others can read, a symlink planted beside it, two runs
refreshing at once, and no sign-in at all with a mail server that cannot be reached."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from automations.adapters.auth import TOKEN_URL_VARIABLE, Account, write_private
from automations.cli import main
from tests.oauth_servers import TokenEndpoint, XOAuth2SmtpServer
from tests.projects import SheetProject, email_rows, run_rows
from tests.smtp_server import free_port
from tests.test_oauth import USER, oauth_project, signed_in, use_oauth_imap


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TokenEndpoint]:
    served = TokenEndpoint(USER)
    monkeypatch.setenv(TOKEN_URL_VARIABLE, served.url)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    yield served
    served.stop()


@pytest.fixture
def oauth_smtp(endpoint: TokenEndpoint) -> Iterator[XOAuth2SmtpServer]:
    server = XOAuth2SmtpServer(endpoint, USER)
    server.start()
    yield server
    server.stop()


def said_plainly(err: str, out: str = "") -> None:
    """A user mistake never shows a traceback or an internal error."""
    assert "Traceback" not in out + err
    assert "internal error" not in out + err


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('["refresh-1"]', "not the JSON object `partners login` writes"),
        ('"refresh-1"', "not the JSON object `partners login` writes"),
        ("{not json", "not the JSON object `partners login` writes"),
        ('{"client_id": "id"}', "it holds no refresh token"),
        (
            '{"refresh_token": "refresh-1", "access_token": "a", "expires_at": "soon"}',
            "its expires_at is not a number",
        ),
    ],
)
def test_a_damaged_sign_in_cache_stops_the_run_before_sending_and_names_the_file(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    capsys: pytest.CaptureFixture[str],
    content: str,
    why: str,
) -> None:
    cache = signed_in()
    cache.write_text(content)
    config = oauth_project(tmp_path, oauth_smtp)
    assert main(["nurture", "--send", "--config", config]) == 2
    out, err = capsys.readouterr()
    said_plainly(err, out)
    assert (
        f"partners: stopped: the saved sign-in {cache} is damaged ({why}): run `partners login mail`"
        in (err)
    )
    assert not oauth_smtp.recorder.received
    project = SheetProject(tmp_path / "p")
    [(status, detail)] = run_rows(project.log_rows())
    assert status == "failed" and "run `partners login mail`" in detail
    # Nothing was tried, so nothing is left uncertain for `partners resolve`.
    assert not email_rows(project.log_rows())
    assert main(["check", "--config", config]) == 2
    out, err = capsys.readouterr()
    said_plainly(err, out)
    assert "uncertain" not in out + err
    assert f"partners: no email could be sent: the saved sign-in {cache} is damaged" in err


def test_a_sign_in_cache_others_can_read_is_made_private_and_said(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = signed_in()
    config = oauth_project(tmp_path, oauth_smtp)
    os.chmod(cache, 0o644)
    assert main(["nurture", "--send", "--config", config]) == 1  # the placeholder survey form
    err = capsys.readouterr().err
    assert (
        f"partners: the saved sign-in {cache} was readable by others (mode 644); it is now "
        "readable by you only (0600)"
    ) in err
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert len(oauth_smtp.recorder.received) >= 8  # a warning: the run goes on
    os.chmod(cache, 0o640)
    main(["check", "--config", config])
    assert f"partners: the saved sign-in {cache} was readable by others (mode 640)" in (
        capsys.readouterr().err
    )
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_a_symlink_planted_beside_the_cache_is_never_followed_when_refreshing(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
) -> None:
    cache = signed_in()
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own file\n")
    for planted in (cache.with_suffix(".tmp"), cache.parent / f"{cache.name}.tmp"):
        planted.symlink_to(victim)
    config = oauth_project(tmp_path, oauth_smtp)
    assert main(["nurture", "--send", "--config", config]) == 1  # the placeholder survey form
    assert endpoint.refreshes == 1  # the cache was written with the new access token
    assert victim.read_text() == "the user's own file\n"
    assert json.loads(cache.read_text())["access_token"] == "access-1"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_two_runs_refreshing_at_once_never_leave_a_damaged_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    cache = Account("mail", "google", USER).cache
    texts = [
        json.dumps({"refresh_token": "refresh-1", "writer": w, "pad": "x" * 200_000})
        for w in ("check", "cron")
    ]
    failures: list[BaseException] = []

    def refresh_often(text: str) -> None:
        try:
            for _ in range(60):
                write_private(cache, text)
        except BaseException as exc:
            failures.append(exc)

    writers = [threading.Thread(target=refresh_often, args=(t,)) for t in texts]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert not failures
    assert cache.read_text() in texts
    assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name]  # no leftovers


def test_without_a_sign_in_the_run_says_to_sign_in_before_trying_the_mail_server(
    tmp_path: Path, endpoint: TokenEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path / "p")
    config = project / "config" / "partners.toml"
    from tests.conftest import set_keys

    dead = free_port()  # nothing listens here: connecting first would say "cannot connect"
    set_keys(config, "mail", backend="smtp", host="127.0.0.1", port=dead, security="none")
    set_keys(config, "mail", username=USER, auth="oauth", provider="google", retry_backoff=0.0)
    assert main(["nurture", "--send", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    said_plainly(err, out)
    assert (
        "partners: stopped: mail is set to sign in with OAuth (google) but nobody has signed in "
        "yet: run `partners login mail`"
    ) in err
    assert "cannot connect" not in out + err
    assert not email_rows(project.log_rows())


def test_an_inbox_nobody_signed_in_to_says_to_sign_in_before_trying_the_imap_server(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in("mail")  # but never `partners login imap`
    config = oauth_project(tmp_path, oauth_smtp)

    class Nobody:
        port = free_port()  # nothing listens here

    use_oauth_imap(config, Nobody())  # type: ignore[arg-type]
    assert main(["nurture", "--send", "--config", config]) == 1
    out, err = capsys.readouterr()
    said_plainly(err, out)
    assert (
        "partners: the inbox was not read: imap is set to sign in with OAuth (google) but nobody "
        "has signed in yet: run `partners login imap`"
    ) in err
    assert "cannot connect to the IMAP server" not in err


def test_an_inbox_sign_in_others_can_read_is_made_private_and_said_by_a_sending_run(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in("mail")
    inbox = signed_in("imap")
    os.chmod(inbox, 0o604)
    config = oauth_project(tmp_path, oauth_smtp)

    class Nobody:
        port = free_port()  # the inbox is down; its sign-in is still looked after

    use_oauth_imap(config, Nobody())  # type: ignore[arg-type]
    main(["nurture", "--send", "--config", config])
    err = capsys.readouterr().err
    said_plainly(err)
    assert f"partners: the saved sign-in {inbox} was readable by others (mode 604)" in err
    assert stat.S_IMODE(inbox.stat().st_mode) == 0o600
