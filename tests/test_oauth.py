"""Signing in with OAuth (EMAIL.md, "Signing in"): XOAUTH2 over SMTP and IMAP to loopback
servers that accept only tokens a local token endpoint issued; refresh, a revoked sign-in,
Microsoft's password refusals, and `partners login` for Microsoft (device code, through
msal) and Google (installed-app flow, through google-auth-oauthlib), the test playing the
user."""

from __future__ import annotations

import json
import os
import ssl
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automations.adapters.auth import AUTHORITY_VARIABLE, TOKEN_URL_VARIABLE, Account
from automations.cli import main
from tests.conftest import ImapServer, set_keys, start_pymap
from tests.imap_messages import message
from tests.oauth_servers import (
    CLIENT_ID,
    MICROSOFT_REFUSALS,
    REFRESH_TOKEN,
    USER_CODE,
    MicrosoftPasswordRefusingSmtpServer,
    TokenEndpoint,
    XOAuth2SmtpServer,
)
from tests.projects import SheetProject, email_rows, run_rows
from tests.test_mailbox import OUTREACH_ID, PRIYA, RECENT

ROOT = Path(__file__).resolve().parents[1]

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


class XOAuth2ImapServer(ImapServer):
    """pymap accepting only XOAUTH2 with a token the endpoint issued (tests/xoauth2_imap.py)."""

    endpoint: TokenEndpoint

    def login(self, conn: Any) -> None:
        self.endpoint.issued["helper-token"] = USER  # the test's own way in, to put mail there
        said = f"user={USER}\x01auth=Bearer helper-token\x01\x01".encode()
        conn.authenticate("XOAUTH2", lambda _challenge: said)


def start_oauth_imap(
    endpoint: TokenEndpoint, env: dict[str, str] | None = None
) -> XOAuth2ImapServer:
    port, process = start_pymap(
        sys.executable, "-m", "tests.xoauth2_imap", f"{endpoint.base}/introspect", cwd=ROOT, env=env
    )
    server = XOAuth2ImapServer(port, process)
    server.endpoint = endpoint
    return server


@pytest.fixture
def oauth_imap(endpoint: TokenEndpoint) -> Iterator[XOAuth2ImapServer]:
    server = start_oauth_imap(endpoint)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def signed_in(purpose: str = "mail") -> Path:
    """What `partners login mail` leaves behind: a cached refresh token, mode 0600."""
    cache = Account(purpose, "google", USER).cache
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


def use_oauth_imap(config: str, server: ImapServer, provider: str = "google") -> None:
    set_keys(
        Path(config),
        "imap",
        host="127.0.0.1",
        port=server.port,
        security="none",
        username=USER,
        timeout=5.0,
        auth="oauth",
        provider=provider,
    )


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
    said = capsys.readouterr()
    project = SheetProject(tmp_path / "p")
    assert [s for s, _ in run_rows(project.log_rows())] == ["problems", "ok"]
    tokens = [REFRESH_TOKEN, *endpoint.issued]
    for text in [said.out + said.err, *project_texts(project)]:
        assert not any(token in text for token in tokens)


def project_texts(project: SheetProject) -> list[str]:
    """Every file of the project as text (the workbooks' XML unzipped): the journal, the Log,
    Health, the outbox."""
    texts = []
    for path in project.path.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as z:
                    texts.extend(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return texts


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
    project = SheetProject(tmp_path / "p")
    [(status, detail)] = run_rows(project.log_rows())
    assert status == "failed" and "run `partners login mail`" in detail
    # The one email tried is `failed` (due again), never `pending` or `uncertain`.
    assert {r["status"] for r in email_rows(project.log_rows())} == {"failed"}
    assert project.health()  # Health written all the same
    endpoint.revoked = False  # the user ran `partners login mail`
    assert main(["nurture", "--send", "--config", config]) == 1
    assert len(oauth_smtp.recorder.received) >= 8
    assert [s for s, _ in run_rows(project.log_rows())] == ["failed", "problems"]


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


def test_nurture_sends_and_reads_replies_over_imap_with_oauth_end_to_end(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    oauth_imap: XOAuth2ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in("mail"), signed_in("imap")
    config = oauth_project(tmp_path, oauth_smtp)
    use_oauth_imap(config, oauth_imap)
    reply = message(
        "Sam Okoro <sam@stackwise.example>",
        USER,
        "Re: Quick hello",
        in_reply_to=OUTREACH_ID,
        when=RECENT,
    )
    oauth_imap.append(reply)
    assert main(["nurture", "--send", "--config", config]) == 1  # the placeholder survey form
    out = capsys.readouterr().out
    assert "Inbox: 1 reply(ies)" in out
    assert len(oauth_smtp.recorder.received) >= 7
    assert not oauth_smtp.recorder.by_recipient(PRIYA)  # her partner answered: no follow-up
    project = SheetProject(tmp_path / "p")
    replies = [r for r in project.log_rows() if r["status"] == "reply"]
    assert [r["partner_email"] for r in replies] == [PRIYA]


@pytest.mark.parametrize("refusal", sorted(MICROSOFT_REFUSALS))
def test_a_microsoft_password_refusal_says_to_sign_in_with_oauth(
    tmp_path: Path,
    refusal: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import use_smtp
    from tests.smtp_server import PASSWORD

    server = MicrosoftPasswordRefusingSmtpServer(MICROSOFT_REFUSALS[refusal])
    server.start()
    try:
        project = SheetProject(tmp_path)
        config = use_smtp(project, server)
        monkeypatch.setenv("PARTNERS_SMTP_PASSWORD", PASSWORD)
        assert main(["nurture", "--send", "--config", str(config)]) == 2
    finally:
        server.stop()
    said = capsys.readouterr()
    text = said.out + said.err
    assert '[mail] auth = "oauth", provider = "microsoft"' in text
    assert "partners login mail" in text
    assert PASSWORD not in text
    [(status, detail)] = run_rows(project.log_rows())
    assert status == "failed" and "partners login mail" in detail


def _run_login(config: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "automations", "login", "mail", "-v", "--config", config],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_partners_login_for_microsoft_prints_the_device_code_and_signs_in_mail_and_imap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import trustme

    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(tls)
    endpoint = TokenEndpoint(USER, tls)
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        AUTHORITY_VARIABLE: f"{endpoint.base}/common",
        TOKEN_URL_VARIABLE: endpoint.url,
        "REQUESTS_CA_BUNDLE": str(ca_file),  # msal (requests) trusts the local authority
        "SSL_CERT_FILE": str(ca_file),  # and so do urllib (refresh) and the IMAP server
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    smtp = XOAuth2SmtpServer(endpoint, USER)
    smtp.start()
    imap = start_oauth_imap(endpoint, {**os.environ, **env})
    try:
        config = oauth_project(tmp_path, smtp)
        set_keys(Path(config), "mail", provider="microsoft", client_id=CLIENT_ID)
        use_oauth_imap(config, imap, provider="microsoft")
        set_keys(Path(config), "imap", client_id=CLIENT_ID)
        login = _run_login(config, env)
        assert login.stdout is not None
        shown = ""
        while USER_CODE not in shown:
            line = login.stdout.readline()
            assert line, f"no device code was shown: {shown}"
            shown += line
        assert "https://microsoft.com/devicelogin" in shown
        endpoint.approve()  # the user opens the page and types the code
        rest, _ = login.communicate(timeout=60)
        assert login.returncode == 0, shown + rest
        assert f"Signed in as {USER} with microsoft for mail and imap" in rest
        assert "access-" not in shown + rest and REFRESH_TOKEN not in shown + rest
        for purpose in ("mail", "imap"):
            cache = Account(purpose, "microsoft", USER).cache
            assert stat.S_IMODE(cache.stat().st_mode) == 0o600
            assert (
                str(tmp_path / "xdg") in str(cache)
                and "p" not in cache.relative_to(tmp_path).parts[:1]
            )
        assert main(["check", "--config", config]) == 1  # the sample's placeholder survey form
        out = capsys.readouterr().out
        assert f"mail: signed in with microsoft as {USER}, token last refreshed 20" in out
        assert f"imap: signed in with microsoft as {USER}" in out
        assert "inbox: 127.0.0.1" in out and "read: OK" in out
        assert main(["nurture", "--send", "--config", config]) == 1
        assert len(smtp.recorder.received) >= 8
    finally:
        smtp.stop()
        imap.process.terminate()
        imap.process.wait(timeout=10)
        endpoint.stop()


def user_with_a_browser(tmp_path: Path) -> Path:
    """A BROWSER for webbrowser: the user opens the consent page, agrees, and is sent back
    to the toolkit's loopback redirect (detached: webbrowser waits for its browser)."""
    browser = tmp_path / "browser"
    browser.write_text(
        f"#!{sys.executable}\n"
        "import subprocess, sys, urllib.request\n"
        "if len(sys.argv) > 2:\n"
        "    urllib.request.urlopen(sys.argv[2], timeout=20).read()\n"
        "else:\n"
        "    subprocess.Popen([sys.executable, __file__, 'now', sys.argv[1]], start_new_session=True)\n"
    )
    browser.chmod(0o755)
    return browser


def desktop_client(tmp_path: Path, endpoint: TokenEndpoint) -> Path:
    """A Google OAuth desktop client's JSON, its endpoints on loopback."""
    client = tmp_path / "client_secret.json"
    installed = {
        "client_id": CLIENT_ID,
        "client_secret": "not-a-real-secret",
        "auth_uri": f"{endpoint.base}/auth",
        "token_uri": endpoint.url,
        "redirect_uris": ["http://localhost"],
    }
    client.write_text(json.dumps({"installed": installed}))
    return client


def test_partners_login_for_google_completes_the_installed_app_flow_in_a_browser(
    tmp_path: Path, endpoint: TokenEndpoint, oauth_smtp: XOAuth2SmtpServer
) -> None:
    client = desktop_client(tmp_path, endpoint)
    browser = user_with_a_browser(tmp_path)
    config = oauth_project(tmp_path, oauth_smtp)
    set_keys(Path(config), "mail", client_secret_file=str(client))
    env = {
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "BROWSER": str(browser),
        "OAUTHLIB_INSECURE_TRANSPORT": "1",  # the local token endpoint is plain http
    }
    login = _run_login(config, env)
    said, _ = login.communicate(timeout=60)
    assert login.returncode == 0, said
    assert f"Signed in as {USER} with google for mail" in said
    assert "authorization_code" in endpoint.seen
    cache = Account("mail", "google", USER).cache
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "not-a-real-secret" not in said and "access-" not in said
    assert main(["nurture", "--send", "--config", config]) == 1
    assert len(oauth_smtp.recorder.received) >= 8


def test_an_inbox_nobody_signed_in_to_holds_back_follow_ups_and_says_to_sign_in(
    tmp_path: Path,
    endpoint: TokenEndpoint,
    oauth_smtp: XOAuth2SmtpServer,
    oauth_imap: XOAuth2ImapServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in("mail")  # but never `partners login imap`
    config = oauth_project(tmp_path, oauth_smtp)
    use_oauth_imap(config, oauth_imap)
    assert main(["nurture", "--send", "--config", config]) == 1
    said = capsys.readouterr()
    assert "run `partners login imap`" in said.err
    assert "follow-up(s) held back until the inbox can be read" in said.err
    assert not oauth_smtp.recorder.by_recipient(PRIYA)  # her follow-up waits
    assert len(oauth_smtp.recorder.received) >= 7  # the rest went
    project = SheetProject(tmp_path / "p")
    [(status, detail)] = run_rows(project.log_rows())
    assert status == "problems" and "run `partners login imap`" in detail


def test_partners_login_sheet_signs_in_the_google_sheets_desktop_client_for_cron(
    tmp_path: Path, endpoint: TokenEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automations.adapters.auth import sheets_desktop_credentials, sheets_token_file

    client = desktop_client(tmp_path, endpoint)
    project = SheetProject(tmp_path / "p")
    config = project / "config" / "partners.toml"
    set_keys(config, "sheet", backend="google", spreadsheet="KEY", credentials=str(client))
    env = {
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "BROWSER": str(user_with_a_browser(tmp_path)),
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
    }
    login = subprocess.Popen(
        [sys.executable, "-m", "automations", "login", "sheet", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    said, _ = login.communicate(timeout=60)
    assert login.returncode == 0, said
    assert "Signed in to Google Sheets" in said
    assert stat.S_IMODE(sheets_token_file().stat().st_mode) == 0o600
    creds = sheets_desktop_credentials(str(client), interactive=False)  # what cron gets
    assert creds.valid and creds.refresh_token == REFRESH_TOKEN


def test_google_sign_in_with_no_browser_prints_the_ssh_port_forward_and_completes_through_it(
    tmp_path: Path, endpoint: TokenEndpoint
) -> None:
    import getpass
    import re
    import urllib.request

    client = desktop_client(tmp_path, endpoint)
    project = SheetProject(tmp_path / "p")
    config = project / "config" / "partners.toml"
    set_keys(config, "sheet", backend="google", spreadsheet="KEY", credentials=str(client))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        BROWSER="",
        PATH=str(Path(sys.executable).parent),  # no console browser either
        SSH_CONNECTION="10.0.0.9 50022 10.0.0.5 22",
        OAUTHLIB_INSECURE_TRANSPORT="1",
        PYTHONUNBUFFERED="1",
    )
    probe = [sys.executable, "-c", "import webbrowser; webbrowser.get()"]
    if subprocess.run(probe, env=env, capture_output=True, check=False).returncode == 0:
        pytest.skip("this machine has a browser webbrowser can open")
    login = subprocess.Popen(
        [sys.executable, "-m", "automations", "login", "sheet", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    said = []
    while not said or not said[-1].startswith("http"):
        line = login.stdout.readline()  # type: ignore[union-attr]
        assert line, "".join(said)
        said.append(line)
    text = "".join(said)
    forward = re.search(r"ssh -L (\d+):localhost:(\d+) (\S+)@(\S+)", text)
    assert forward is not None, text
    assert forward[1] == forward[2] and forward.group(3, 4) == (getpass.getuser(), "10.0.0.5")
    assert f"localhost%3A{forward[1]}" in said[-1]  # Google sends the browser back there
    # The user's own browser, with the port forwarded: the redirect reaches the login.
    urllib.request.urlopen(said[-1].strip(), timeout=20).read()
    rest, _ = login.communicate(timeout=60)
    assert login.returncode == 0, text + rest
    assert "Signed in to Google Sheets" in rest


def test_google_sign_in_without_a_browser_prints_the_ssh_port_forward_for_its_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 27: over SSH the loopback redirect came back to a port nobody forwarded.
    from automations.adapters.auth import interactive

    class Flow:
        def run_local_server(
            self, host: str, port: int, open_browser: bool, authorization_prompt_message: str
        ) -> str:
            self.port, self.browser = port, open_browser
            self.said = authorization_prompt_message.format(url="https://accounts.example/auth")
            return "credentials"

    monkeypatch.setattr(interactive, "can_open_browser", lambda: False)
    monkeypatch.setenv("SSH_CONNECTION", "10.1.2.3 50000 192.0.2.7 22")
    monkeypatch.setenv("USER", "sam")
    monkeypatch.setenv("LOGNAME", "sam")
    flow = Flow()
    assert interactive._finish_google_flow(flow) == "credentials"
    assert flow.port > 0 and flow.browser is False
    assert f"ssh -L {flow.port}:localhost:{flow.port} sam@192.0.2.7" in flow.said
    assert flow.said.endswith("browser there:\nhttps://accounts.example/auth")
