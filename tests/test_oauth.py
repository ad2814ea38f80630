"""Signing in with OAuth (issue 15, first part): XOAUTH2 over SMTP to a loopback server that
accepts only tokens a local token endpoint issued; refresh and a revoked sign-in."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from automations.adapters.auth import TOKEN_URL_VARIABLE, Account
from automations.cli import main
from tests.conftest import set_keys
from tests.oauth_servers import REFRESH_TOKEN, TokenEndpoint, XOAuth2SmtpServer
from tests.projects import SheetProject

USER = "alex@rivera-consulting.example"


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


def signed_in() -> Path:
    """What `partners login mail` leaves behind: a cached refresh token, mode 0600."""
    cache = Account("mail", "google", USER).cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"refresh_token": REFRESH_TOKEN, "client_id": "id"}))
    os.chmod(cache, 0o600)
    return cache


def oauth_project(tmp_path: Path, server: XOAuth2SmtpServer) -> str:
    project = SheetProject(tmp_path / "p")
    config = project / "config" / "partners.toml"
    set_keys(
        config,
        "mail",
        backend="smtp",
        host="127.0.0.1",
        port=server.port,
        security="none",
        max_per_minute=0,
        username=USER,
        auth="oauth",
        provider="google",
    )
    return str(config)


def test_nurture_sends_over_xoauth2_and_a_second_run_reuses_the_token(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = signed_in()
    config = oauth_project(tmp_path, oauth_smtp)
    # 1: the sample's placeholder survey form holds the surveys back; the rest goes.
    assert main(["nurture", "--send", "--config", config]) == 1
    sent = len(oauth_smtp.recorder.received)
    assert sent >= 8
    assert endpoint.refreshes == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "access-1" not in capsys.readouterr().out  # a token is never printed
    kept = json.loads(cache.read_text())
    kept["expires_at"] = 0  # the access token expired between two runs
    cache.write_text(json.dumps(kept))
    campaign = str(Path(config).parent / "campaigns" / "prospects-intro.toml")
    assert main(["campaign", campaign, "--send", "--config", config]) == 0
    assert len(oauth_smtp.recorder.received) > sent  # sent with a refreshed token
    assert endpoint.refreshes == 2


def test_a_revoked_sign_in_stops_the_run_with_exit_2_and_says_run_partners_login(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    endpoint.revoked = True
    config = oauth_project(tmp_path, oauth_smtp)
    assert main(["nurture", "--send", "--config", config]) == 2
    said = capsys.readouterr()
    assert "run `partners login mail`" in said.out + said.err
    assert "Testing" in said.out + said.err  # Google's 7-day expiry, explained
    assert not oauth_smtp.recorder.received


def test_without_a_sign_in_the_run_says_to_sign_in(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = oauth_project(tmp_path, oauth_smtp)
    assert main(["nurture", "--send", "--config", config]) == 2
    said = capsys.readouterr()
    assert "nobody has signed in yet: run `partners login mail`" in said.out + said.err
