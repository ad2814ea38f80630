"""Loopback stand-ins for a provider (FIELD-NOTES.md, "Testing it on loopback"): a token
endpoint that issues access tokens (refresh, Google's authorization code, Microsoft's device
code) and says whom a token belongs to; an SMTP server that accepts only XOAUTH2 with a
token that endpoint issued. The IMAP one is tests/xoauth2_imap.py."""

from __future__ import annotations

import base64
import json
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult

from tests.smtp_server import SmtpServer, free_port

REFRESH_TOKEN = "refresh-1"
CLIENT_ID = "client-1"
USER_CODE = "ABCD-1234"
AUTH_CODE = "code-1"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# What Microsoft answers for a client id no directory knows (Entra ID's AADSTS700016).
UNKNOWN_CLIENT = {
    "error": "unauthorized_client",
    "error_description": "AADSTS700016: Application with identifier 'x' was not found in the "
    "directory 'Default Directory'.",
}


class TokenEndpoint:
    """One provider on loopback: `/token` (refresh_token, authorization_code, device_code
    grants), `/auth` (Google's consent page: redirects straight back with a code),
    `/common/...` (Microsoft's discovery and device code), `/introspect?token=`.
    `revoked` answers invalid_grant; `approve()` is the user typing the device code."""

    def __init__(self, user: str, tls: ssl.SSLContext | None = None) -> None:
        self.user = user
        self.issued: dict[str, str] = {}  # access token -> whose
        self.refreshes = 0
        self.revoked = False
        self.unknown_client = False  # the device code endpoint refuses the client id
        self.approved = threading.Event()
        self.seen: list[str] = []  # grant types asked for
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/introspect":
                    owner = endpoint.issued.get(query.get("token", ""), "")
                    self.answer(200, {"active": bool(owner), "username": owner})
                elif url.path == "/auth":
                    back = (
                        f"{query['redirect_uri']}?code={AUTH_CODE}&state={query.get('state', '')}"
                    )
                    self.send_response(302)
                    self.send_header("Location", back)
                    self.end_headers()
                elif url.path.endswith("/.well-known/openid-configuration"):
                    self.answer(200, endpoint.openid_configuration())
                else:
                    self.answer(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path.endswith("/devicecode") and endpoint.unknown_client:
                    self.answer(400, UNKNOWN_CLIENT)
                elif self.path.endswith("/devicecode"):
                    self.answer(200, endpoint.device_code())
                else:
                    self.answer(*endpoint.token(form))

            def answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.base = f"{scheme}://127.0.0.1:{self.server.server_port}"
        self.url = f"{self.base}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def approve(self) -> None:
        """The user entered the device code and consented."""
        self.approved.set()

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": f"{self.base}/common/v2.0",
            "authorization_endpoint": f"{self.base}/common/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.base}/common/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{self.base}/common/oauth2/v2.0/devicecode",
        }

    def device_code(self) -> dict[str, Any]:
        return {
            "device_code": "device-1",
            "user_code": USER_CODE,
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": "To sign in, use a web browser to open the page "
            f"https://microsoft.com/devicelogin and enter the code {USER_CODE} to authenticate.",
        }

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        self.seen.append(grant)
        if grant.endswith("device_code") and not self.approved.is_set():
            return 400, {"error": "authorization_pending"}
        granted = {
            "refresh_token": form.get("refresh_token") == REFRESH_TOKEN and not self.revoked,
            "authorization_code": form.get("code") == AUTH_CODE,
        }.get(grant, grant.endswith("device_code"))
        if not granted:
            return 400, {"error": "invalid_grant", "error_description": "Token has been revoked."}
        if grant == "refresh_token":
            self.refreshes += 1
        token = f"access-{len(self.issued) + 1}"
        self.issued[token] = self.user
        body = {
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": 3600,
            "refresh_token": REFRESH_TOKEN,
        }
        if form.get("scope"):
            body["scope"] = form["scope"]
        if grant.endswith("device_code"):
            claims = {
                "iss": self.openid_configuration()["issuer"],
                "aud": form.get("client_id", ""),
                "sub": "s",
                "exp": 4102444800,
                "iat": 1,
                "preferred_username": self.user,
            }
            body["id_token"] = f"{_b64({'alg': 'none'})}.{_b64(claims)}."
            body["client_info"] = _b64({"uid": "u", "utid": "t"})
        return 200, body

    def stop(self) -> None:
        self.server.shutdown()


class XOAuth2SmtpServer(SmtpServer):
    """aiosmtpd offering only XOAUTH2, accepting only tokens the endpoint issued."""

    def __init__(self, endpoint: TokenEndpoint, user: str) -> None:
        super().__init__()
        self.endpoint, self.user = endpoint, user
        recorder = self.recorder

        async def auth_XOAUTH2(server: SMTP, args: list[str]) -> AuthResult:
            said = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
            fields = dict(p.split("=", 1) for p in said.split("\x01") if "=" in p)
            token = fields.get("auth", "").removeprefix("Bearer ")
            ok = fields.get("user") == self.user and self.endpoint.issued.get(token) == self.user
            return AuthResult(success=ok, handled=False)

        recorder.auth_XOAUTH2 = auth_XOAUTH2  # type: ignore[attr-defined]
        self.SMTP_kwargs |= {
            "auth_required": True,
            "auth_require_tls": False,
            "auth_exclude_mechanism": ["PLAIN", "LOGIN"],
        }


MICROSOFT_REFUSALS = {
    "basic": "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
    "tenant": "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
    "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
}


class MicrosoftPasswordRefusingSmtpServer(SmtpServer):
    """aiosmtpd refusing every password as Microsoft 365 does once basic auth is off."""

    def __init__(self, refusal: str) -> None:
        super().__init__(tls=True)

        def refuse(*_args: Any) -> AuthResult:
            return AuthResult(success=False, handled=False, message=f"535 {refusal}")

        self.SMTP_kwargs["authenticator"] = refuse
