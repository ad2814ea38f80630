"""pymap accepting only XOAUTH2 (pysasl's OAuth2Mechanism), with a bearer token checked
against the loopback token endpoint's introspection URL, as Dovecot's `passdb oauth2` does
(FIELD-NOTES.md, "Testing it on loopback"). Run as a process:

    python -m tests.xoauth2_imap INTROSPECTION_URL --host 127.0.0.1 --port N --no-tls dict --demo-data

Every mailbox is the demo user's; the token decides who may open it."""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from typing import Any

from pymap.backend.dict import Identity, Login
from pymap.config import IMAPConfig
from pymap.exceptions import InvalidAuth
from pymap.main import main
from pysasl import SASLAuth
from pysasl.creds.external import ExternalCredentials, ExternalVerificationRequired
from pysasl.mechanism.oauth import OAuth2Mechanism

from tests.imap_users import clear_text_passwords

DEMO_USER = "demouser"


def token_owner(introspection_url: str, token: str) -> str:
    """Who the endpoint issued `token` to ("" when it did not)."""
    query = urllib.parse.urlencode({"token": token})
    with urllib.request.urlopen(f"{introspection_url}?{query}", timeout=5) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return str(answer.get("username", "")) if answer.get("active") else ""


def only_xoauth2(introspection_url: str) -> None:
    """Patch pymap: offer XOAUTH2 alone, and accept a token only for the user it was issued to."""

    async def authenticate(self: Login, credentials: Any) -> Identity:
        if not isinstance(credentials, ExternalCredentials):
            raise InvalidAuth()
        try:
            credentials.verify(None)  # pysasl hands the bearer token over only this way
        except ExternalVerificationRequired as said:
            token = said.token or ""
        if not token or token_owner(introspection_url, token) != credentials.authzid:
            raise InvalidAuth()
        return Identity(DEMO_USER, self, None, frozenset())

    async def authorize(self: Login, authenticated: Identity, authzid: str) -> Identity:
        return authenticated

    IMAPConfig.tls_auth = property(lambda self: SASLAuth([OAuth2Mechanism()]))  # type: ignore[method-assign,assignment]
    Login.authenticate = authenticate  # type: ignore[method-assign,assignment]
    Login.authorize = authorize  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    clear_text_passwords()  # the demo user's password is hashed at start, never checked
    only_xoauth2(sys.argv.pop(1))
    main()
