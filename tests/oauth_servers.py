"""Loopback stand-ins for a provider (FIELD-NOTES.md, "Testing it on loopback"): a token
endpoint that issues access tokens from a refresh token, and an SMTP server that accepts
only XOAUTH2 with a token that endpoint issued."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult

from tests.smtp_server import SmtpServer, free_port

REFRESH_TOKEN = "refresh-1"


class TokenEndpoint:
    """POST /token: grant_type=refresh_token; `revoked` answers invalid_grant."""

    def __init__(self) -> None:
        self.issued: set[str] = set()
        self.refreshes = 0
        self.revoked = False
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                ok = form.get("refresh_token") == [REFRESH_TOKEN] and not endpoint.revoked
                if ok:
                    endpoint.refreshes += 1
                    token = f"access-{endpoint.refreshes}"
                    endpoint.issued.add(token)
                    body: dict[str, Any] = {"access_token": token, "expires_in": 3600}
                else:
                    body = {
                        "error": "invalid_grant",
                        "error_description": "Token has been revoked.",
                    }
                data = json.dumps(body).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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
            ok = fields.get("user") == self.user and token in self.endpoint.issued
            return AuthResult(success=ok, handled=False)

        recorder.auth_XOAUTH2 = auth_XOAUTH2  # type: ignore[attr-defined]
        self.SMTP_kwargs |= {
            "auth_required": True,
            "auth_require_tls": False,
            "auth_exclude_mechanism": ["PLAIN", "LOGIN"],
        }
