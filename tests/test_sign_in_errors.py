"""Sign-in errors a user meets, in plain words with exit 2 (EMAIL.md, "Signing in"; CLI.md,
`partners login`; issue 22): a service-account key Google refuses, a Google token endpoint
that cannot be reached, `partners login mail` for Microsoft with no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from automations.adapters.auth import AUTHORITY_VARIABLE, TOKEN_URL_VARIABLE
from automations.cli import main
from tests.conftest import set_keys
from tests.oauth_servers import CLIENT_ID, TokenEndpoint
from tests.projects import SheetProject
from tests.smtp_server import free_port
from tests.test_oauth import ROOT, USER, signed_in

KEY_PEM = (Path(__file__).parent / "data" / "smtp-test-key.pem").read_text()
ROBOT = "partners-bot@p.iam.gserviceaccount.com"


def said_plainly(text: str) -> None:
    """A user's situation never shows a traceback or an internal error."""
    assert "Traceback" not in text
    assert "internal error" not in text


def google_sheet_project(tmp_path: Path, token_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A project on a Google Sheet reached with a service-account key whose token endpoint is
    `token_uri` (on loopback: the key is refused, or never answered, before any sheet call)."""
    monkeypatch.delenv("SHEETS_EMULATOR_HOST", raising=False)
    key = tmp_path / "service-account.json"
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "1",
        "private_key": KEY_PEM,
        "client_email": ROBOT,
        "client_id": "1",
        "token_uri": token_uri,
    }
    key.write_text(json.dumps(info))
    config = SheetProject(tmp_path / "p") / "config" / "partners.toml"
    set_keys(config, "sheet", backend="google", spreadsheet="KEY", credentials=str(key))
    return str(config)


def test_a_service_account_key_google_refuses_says_to_make_a_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = TokenEndpoint(USER)  # answers the key's JWT with 400 invalid_grant
    try:
        config = google_sheet_project(tmp_path, endpoint.url, monkeypatch)
        assert main(["health", "--config", config]) == 2
    finally:
        endpoint.stop()
    assert any(g.endswith("jwt-bearer") for g in endpoint.seen)
    out, err = capsys.readouterr()
    said_plainly(out + err)
    assert err.startswith(
        f"partners: Google refused the key of the service account {ROBOT} (invalid_grant: "
        "Token has been revoked.): the key was deleted or disabled"
    )
    assert "Make a new JSON key" in err and "[sheet] credentials" in err


def test_a_google_token_endpoint_that_cannot_be_reached_says_check_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/token"  # nothing listens: connection refused
    config = google_sheet_project(tmp_path, dead, monkeypatch)
    assert main(["health", "--config", config]) == 2
    out, err = capsys.readouterr()
    said_plainly(out + err)
    assert err.startswith(
        "partners: cannot reach Google's sign-in server to read the spreadsheet ("
    )
    assert "check this computer's network connection and try again" in err


def test_a_mail_token_endpoint_that_cannot_be_reached_says_check_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_oauth import oauth_project

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(TOKEN_URL_VARIABLE, f"http://127.0.0.1:{free_port()}/token")
    signed_in()

    class Server:  # a mail server never reached: the token is had first
        port = free_port()

    config = oauth_project(tmp_path, Server())  # type: ignore[arg-type]
    assert main(["nurture", "--send", "--config", config]) == 2
    out, err = capsys.readouterr()
    said_plainly(out + err)
    assert (
        "partners: stopped: no email could be sent: the Google sign-in server cannot be reached "
        "to refresh the sign-in for mail (127.0.0.1:"
    ) in err
    assert "Connection refused): check this computer's network connection" in err
    assert "check this computer's network connection and try again" in err


def microsoft_login(tmp_path: Path, authority: str, client_id: str, **env: str) -> Any:
    """`partners login mail` for a Microsoft account, its login host at `authority`."""
    config = SheetProject(tmp_path / "p") / "config" / "partners.toml"
    set_keys(
        config,
        "mail",
        backend="smtp",
        host="127.0.0.1",
        port=free_port(),
        username=USER,
        auth="oauth",
        provider="microsoft",
        client_id=client_id,
    )
    return subprocess.run(
        [sys.executable, "-m", "automations", "login", "mail"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            AUTHORITY_VARIABLE: authority,
            "PARTNERS_CONFIG": str(config),
            **env,
        },
        timeout=120,
    )


def test_partners_login_for_microsoft_without_network_says_so_plainly(tmp_path: Path) -> None:
    down = f"https://127.0.0.1:{free_port()}/common"  # Microsoft's login host, unreachable
    login = microsoft_login(tmp_path, down, CLIENT_ID)
    assert login.returncode == 2, login.stdout + login.stderr
    said_plainly(login.stdout + login.stderr)
    assert login.stderr.startswith(
        "partners: cannot reach Microsoft's sign-in server 127.0.0.1 to sign in"
    )
    assert "check this computer's network connection and try again" in login.stderr


@pytest.mark.parametrize("content", ["{not json", '["token"]', '{"token": "t"}'])
def test_a_damaged_sheets_sign_in_names_the_file_and_partners_login_sheet(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str,
) -> None:
    from automations.adapters.auth import sheets_token_file

    monkeypatch.delenv("SHEETS_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    client = tmp_path / "client.json"
    client.write_text('{"installed": {"client_id": "id", "client_secret": "s"}}')
    saved = sheets_token_file()
    saved.parent.mkdir(parents=True)
    saved.write_text(content)
    config = SheetProject(tmp_path / "p") / "config" / "partners.toml"
    set_keys(config, "sheet", backend="google", spreadsheet="KEY", credentials=str(client))
    assert main(["health", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    said_plainly(out + err)
    assert err.startswith(f"partners: the saved Sheets sign-in {saved} is damaged (")
    assert "run `partners login sheet` to sign in again" in err


def test_partners_login_for_microsoft_with_a_refused_client_id_says_what_to_check(
    tmp_path: Path,
) -> None:
    # Issue 27, acceptance 4: a client id Microsoft does not know.
    import ssl

    import trustme

    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(tls)
    endpoint = TokenEndpoint(USER, tls)
    endpoint.unknown_client = True
    try:
        login = microsoft_login(
            tmp_path,
            f"{endpoint.base}/common",
            "00000000-0000-0000-0000-000000000000",
            REQUESTS_CA_BUNDLE=str(ca_file),
        )
    finally:
        endpoint.stop()
    assert login.returncode == 2, login.stdout + login.stderr
    said_plainly(login.stdout + login.stderr)
    assert login.stderr.startswith(
        "partners: Microsoft refused to start the sign-in (AADSTS700016: Application with "
    )
    assert "check [mail] client_id" in login.stderr
