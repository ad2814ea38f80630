"""The inbox over IMAP (imaplib): new messages since the last one seen, never marked read."""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from automations.adapters.tls import tls_context
from automations.errors import InboxError, ToolkitError

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UID = re.compile(rb"UID (\d+)")


@dataclass
class Fetched:
    """New messages (uid, bytes) and where to start next time."""

    uidvalidity: int
    last_uid: int
    messages: list[tuple[int, bytes]] = field(default_factory=list)
    renumbered: bool = False  # the server gave the folder a new UIDVALIDITY: read again


def imap_date(day: dt.date) -> str:
    """01-Nov-2026, in English whatever the machine's locale (IMAP wants that)."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def _quoted(text: str) -> str:
    # imaplib sends arguments as they are: quote them ourselves.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapInbox:
    """One IMAP connection for a run; use as a context manager."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        timeout: float = 30.0,
        ca_file: str = "",
        oauth_token: Callable[[], str] | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self._password = username, password
        self._oauth_token = oauth_token  # XOAUTH2 instead of the password
        self.timeout, self.ca_file = timeout, ca_file
        self.conn: imaplib.IMAP4 | None = None

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"

    def __enter__(self) -> ImapInbox:
        context = tls_context(self.security, self.ca_file, "[imap] ca_file", InboxError)
        try:
            # The token before the connection: a missing sign-in is said as such, never as
            # a server that cannot be reached.
            token = self._oauth_token() if self._oauth_token is not None else ""
            if self.security == "ssl":
                self.conn = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=context, timeout=self.timeout
                )
            else:
                self.conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    self.conn.starttls(ssl_context=context)
            self._login(self.conn, token)
        except imaplib.IMAP4.error as exc:
            self._close()
            raise InboxError(self._refused_login(_text(exc))) from None
        except ToolkitError as exc:  # the token could not be had (sign-in missing or revoked)
            self._close()
            raise InboxError(f"the inbox was not read: {exc}") from None
        except ssl.SSLError as exc:
            self._close()
            raise InboxError(
                f"TLS with the IMAP server {self.where} failed ({exc.reason or exc})"
            ) from None
        except (TimeoutError, OSError) as exc:
            self._close()
            raise InboxError(f"cannot connect to the IMAP server {self.where}: {exc}") from None
        return self

    def _login(self, conn: imaplib.IMAP4, token: str) -> None:
        if self._oauth_token is None:
            conn.login(self.username, self._password)
            return
        initial = f"user={self.username}\x01auth=Bearer {token}\x01\x01".encode()
        conn.authenticate("XOAUTH2", lambda _challenge: initial)

    def _refused_login(self, reply: str) -> str:
        said = f"the IMAP server {self.where} refused the login of {self.username!r} ({reply})"
        if self._oauth_token is not None:
            return f"{said}: it refused the OAuth token; run `partners login imap` to sign in again"
        if "basicauthblocked" in reply.lower().replace(" ", "") or "5.7.139" in reply:
            return (
                f"{said}: Microsoft turned password IMAP off; sign in with OAuth ([imap] auth = "
                '"oauth", provider = "microsoft", then `partners login imap`)'
            )
        return (
            f"{said}; check [imap] username and PARTNERS_IMAP_PASSWORD (or [imap] auth = "
            '"oauth" for Google Workspace and Microsoft 365)'
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.conn is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.conn.logout()
        self._close()

    def _close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, AttributeError):
                self.conn.shutdown()
            self.conn = None

    def _run(self, what: str, typ_data: tuple[str, list[Any]]) -> list[Any]:
        typ, data = typ_data
        if typ != "OK":
            raise InboxError(f"the IMAP server {self.where} refused to {what}: {data!r}")
        return data

    def fetch_new(
        self,
        folder: str,
        uidvalidity: int | None,
        last_uid: int | None,
        since: dt.date,
        headers: tuple[str, ...] = (),
    ) -> Fetched:
        """Messages after `last_uid` (or, on a first scan or a new UIDVALIDITY, since `since`);
        with `headers`, only those header fields of each (EMAIL.md, Replies and bounces)."""
        assert self.conn is not None
        conn = self.conn
        try:
            self._run(f"open {folder}", conn.select(_quoted(folder), readonly=True))
            validity = int(conn.response("UIDVALIDITY")[1][0])
            following = self._uidnext(folder)
            fresh = validity != uidvalidity or last_uid is None
            criteria = ("SINCE", imap_date(since)) if fresh else ("UID", f"{(last_uid or 0) + 1}:*")
            found = self._run("search", conn.uid("SEARCH", *criteria))
            uids = sorted(int(u) for u in (found[0] or b"").split())
            if not fresh:
                uids = [u for u in uids if u > (last_uid or 0)]  # "N:*" always includes the last
            # Where the folder ends now, not the last message read: a scan that finds nothing
            # must not leave 0 behind, or the next one reads every message the folder holds.
            last = max([*uids, following - 1, 0 if fresh else (last_uid or 0)])
            out = Fetched(validity, last, renumbered=uidvalidity is not None and fresh)
            what = f"BODY.PEEK[HEADER.FIELDS ({' '.join(headers)})]" if headers else "BODY.PEEK[]"
            for start in range(0, len(uids), 100):
                chunk = ",".join(str(u) for u in uids[start : start + 100])
                data = self._run("fetch", conn.uid("FETCH", chunk, f"(UID {what})"))
                for item in data:
                    if isinstance(item, tuple) and len(item) == 2:
                        uid = _UID.search(item[0])
                        if uid:
                            out.messages.append((int(uid.group(1)), bytes(item[1])))
            return out
        except (imaplib.IMAP4.error, OSError, ValueError) as exc:
            raise InboxError(
                f"reading {folder} on the IMAP server {self.where} failed: {_text(exc)}"
            ) from None

    def _uidnext(self, folder: str) -> int:
        """The UID the folder's next message will get (the SELECT answer, else STATUS); 1
        when the server says neither."""
        assert self.conn is not None
        said = self.conn.response("UIDNEXT")[1]
        if not said or said[0] is None:
            status = self._run("ask about", self.conn.status(_quoted(folder), "(UIDNEXT)"))
            said = [
                m.group(1)
                for m in re.finditer(
                    rb"UIDNEXT (\d+)", b" ".join(x for x in status if isinstance(x, bytes))
                )
            ]
        return int(said[0]) if said and said[0] else 1

    def append(self, folder: str, data: bytes) -> None:
        """File a copy of a sent message (servers other than Gmail do not do it for SMTP mail)."""
        assert self.conn is not None
        try:
            self._run(
                f"save to {folder}", self.conn.append(_quoted(folder), "(\\Seen)", None, data)
            )
        except (imaplib.IMAP4.error, OSError) as exc:
            raise InboxError(f"saving to {folder} on {self.where} failed: {_text(exc)}") from None

    def has_message_id(self, folder: str, message_id: str) -> bool:
        """Whether `folder` holds a message with this Message-ID."""
        assert self.conn is not None
        conn = self.conn
        try:
            self._run(f"open {folder}", conn.select(_quoted(folder), readonly=True))
            found = self._run(
                "search", conn.uid("SEARCH", "HEADER", "Message-ID", _quoted(message_id))
            )
            return bool((found[0] or b"").split())
        except (imaplib.IMAP4.error, OSError) as exc:
            raise InboxError(f"searching {folder} on {self.where} failed: {_text(exc)}") from None


def _text(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text
