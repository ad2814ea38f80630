"""The SMTP backend (smtplib): one connection per run, retries, pacing, honest outcomes.

What a reply means for the message:
- 250 after the end of DATA: `sent`.
- 4xx anywhere, 421, or a connection lost before the end of DATA: retried with
  backoff on a fresh connection (the server cannot have accepted the message).
- a connection lost or timed out after the end of DATA: `uncertain` (the server may
  have accepted it; it is never retried blindly).
- 5xx for the recipient: `failed`, detail starting with the code (blocks the address).
- 5xx for the message itself: `failed`, detail "message refused: ..." (address kept).
- the server cannot be reached, TLS fails, login or the sender is refused: MailError.
"""

from __future__ import annotations

import base64
import contextlib
import smtplib
import socket
import ssl
import time
from collections.abc import Callable

from automations.adapters.mail import Capabilities, Delivery
from automations.adapters.mail.smtp_data import PlainSmtp, SslSmtp
from automations.adapters.tls import tls_context
from automations.core.vocabulary import Status
from automations.errors import MailError, ToolkitError

# A connection idle longer than this gets a NOOP before reuse (servers drop idle clients;
# with pacing every message waits this long). A drop found later, before the end of DATA,
# is still retried safely on a new connection.
IDLE_CHECK_SECONDS = 1.0


class _Retry(Exception):
    """A temporary failure: try this message again on a fresh connection."""

    def __init__(self, reason: str, connecting: bool = False) -> None:
        super().__init__(reason)
        self.connecting = connecting


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


class SmtpMailer:
    """Sends over one reused SMTP connection; see the module docstring for outcomes."""

    backend = "smtp"
    capabilities = Capabilities(delivers=True, capped=True, files_copies=True, verb="sent")

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        oauth_token: Callable[[], str] | None = None,
        timeout: float = 30.0,
        ca_file: str = "",
        attempts: int = 3,
        backoff: float = 2.0,
        max_per_minute: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self._password = username, password
        self._oauth_token = oauth_token  # XOAUTH2: a fresh access token per connection
        self.timeout, self.ca_file = timeout, ca_file
        self.attempts, self.backoff = max(1, attempts), backoff
        self.interval = 60.0 / max_per_minute if max_per_minute > 0 else 0.0
        self.sleep, self.clock = sleep, clock
        self._conn: PlainSmtp | SslSmtp | None = None
        self._last_start: float | None = None
        self._last_used = 0.0
        self.connections = 0  # how many times a connection was opened (for tests and reports)

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"

    def open(self) -> None:
        """Connect and log in now (for `partners check`); raise MailError if that fails."""
        try:
            self._ready()
        except _Retry as exc:
            raise MailError(f"cannot connect to the SMTP server {self.where}: {exc}") from exc

    @property
    def no_utf8_copy(self) -> str:
        """Why a copy with characters beyond ASCII before the @ cannot go through this server."""
        return (
            f"characters beyond ASCII before the @, and the mail server {self.where} "
            "does not offer SMTPUTF8 to carry them"
        )

    def offers_smtputf8(self) -> bool:
        """Whether the open connection can carry addresses beyond ASCII (for `partners check`)."""
        return self._conn is not None and bool(self._conn.has_extn("smtputf8"))

    def close(self) -> None:
        """Say QUIT and close the connection."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _token(self) -> str:
        """The access token for XOAUTH2 ("" with a password), had before any connection: a
        missing or damaged sign-in is said as such, not as a server that cannot be reached."""
        if self._oauth_token is None:
            return ""
        try:
            return self._oauth_token()
        except ToolkitError as exc:
            raise MailError(f"no email could be sent: {exc}") from None

    def _connect(self) -> PlainSmtp | SslSmtp:
        token = self._token()
        context = tls_context(self.security, self.ca_file, "[mail] ca_file", MailError)
        conn: PlainSmtp | SslSmtp | None = None
        try:
            if self.security == "ssl":
                conn = SslSmtp(self.host, self.port, timeout=self.timeout, context=context)
            else:
                conn = PlainSmtp(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    conn.starttls(context=context)
            conn.ehlo_or_helo_if_needed()
            if self.username:
                self._login(conn, token)
        except smtplib.SMTPAuthenticationError as exc:
            _close(conn)
            raise MailError(self._refused_login(exc.smtp_code, _text(exc.smtp_error))) from None
        except MailError:
            _close(conn)
            raise
        except smtplib.SMTPNotSupportedError as exc:
            _close(conn)
            raise MailError(
                f"the SMTP server {self.where} does not support {exc}; check [mail] security "
                '("starttls" on port 587, "ssl" on 465) and username'
            ) from None
        except ssl.SSLCertVerificationError as exc:
            _close(conn)
            raise MailError(
                f"the TLS certificate of {self.where} is not trusted ({exc.verify_message}); "
                "check [mail] host, or set [mail] ca_file for a private certificate authority"
            ) from None
        except ssl.SSLError as exc:
            _close(conn)
            raise MailError(
                f"TLS with {self.where} failed ({exc.reason or exc}); check [mail] security "
                '("starttls" on port 587, "ssl" on 465)'
            ) from None
        except socket.gaierror:
            _close(conn)
            raise MailError(
                f"the SMTP host {self.host!r} cannot be found; check [mail] host"
            ) from None
        except smtplib.SMTPResponseException as exc:
            _close(conn)
            if 400 <= exc.smtp_code < 500:
                raise _Retry(f"{exc.smtp_code} {_text(exc.smtp_error)}", connecting=True) from None
            raise MailError(
                f"the SMTP server {self.where} refused the connection: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _close(conn)
            raise _Retry(str(exc) or type(exc).__name__, connecting=True) from None
        self.connections += 1
        return conn

    def _refused_login(self, code: int, reply: str) -> str:
        """A refused login in words a person can act on (FIELD-NOTES.md: the providers')."""
        said = (
            f"the SMTP server {self.where} refused the login of {self.username!r} ({code} {reply})"
        )
        if "SmtpClientAuthentication is disabled" in reply:
            return (
                f"{said}: SMTP AUTH is turned off for this Microsoft 365 mailbox or tenant. Sign "
                'in with OAuth instead ([mail] auth = "oauth", provider = "microsoft", then run '
                "`partners login mail`), or ask your admin to allow SMTP AUTH for this mailbox"
            )
        if "5.7.139" in reply or "basic authentication is disabled" in reply.lower():
            return (
                f"{said}: Microsoft no longer accepts a password here. Sign in with OAuth "
                '([mail] auth = "oauth", provider = "microsoft", then `partners login mail`)'
            )
        if self._oauth_token is not None:
            return (
                f"{said}: the server refused the OAuth token; run `partners login mail` to sign "
                "in again (and check that [mail] username is the account you signed in with)"
            )
        return (
            f"{said}; check [mail] username and PARTNERS_SMTP_PASSWORD (Gmail needs an App "
            'Password; Google Workspace and Microsoft 365 may need [mail] auth = "oauth")'
        )

    def _login(self, conn: PlainSmtp | SslSmtp, token: str) -> None:
        """XOAUTH2 with a fresh access token; else smtplib's login, or AUTH PLAIN in UTF-8 for
        a name or password beyond ASCII (smtplib encodes them as ASCII; RFC 4616 says UTF-8)."""
        if self._oauth_token is not None:
            initial = f"user={self.username}\x01auth=Bearer {token}\x01\x01"
            # A refusal comes as a 334 challenge (a JSON error); answering it empty gets the 5xx.
            conn.auth(
                "XOAUTH2",
                lambda challenge=None: initial if challenge is None else "",
                initial_response_ok=True,
            )
            return
        if (self.username + self._password).isascii():
            conn.login(self.username, self._password)
            return
        offered = conn.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" not in offered:
            raise MailError(
                f"the SMTP password or username has characters beyond ASCII, which only AUTH "
                f"PLAIN can carry, and {self.where} does not offer it (it offers "
                f"{', '.join(offered) or 'no login'}); use an app password of plain characters"
            )
        plain = f"\0{self.username}\0{self._password}".encode()
        code, reply = conn.docmd("AUTH", "PLAIN " + base64.b64encode(plain).decode("ascii"))
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)

    def _ready(self) -> PlainSmtp | SslSmtp:
        idle = self.clock() - self._last_used
        if self._conn is not None and idle < IDLE_CHECK_SECONDS:
            return self._conn
        if self._conn is not None:
            try:
                code, _ = self._conn.noop()
                if code == 250:
                    return self._conn
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        self._conn = self._connect()
        return self._conn

    def _pace(self) -> None:
        if self.interval and self._last_start is not None:
            wait = self._last_start + self.interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_start = self.clock()

    def send(
        self, data: bytes, sender: str, recipient: str, name: str, copies: tuple[str, ...] = ()
    ) -> Delivery:
        """One SMTP transaction for the message `data`, retried on temporary failures."""
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self._transaction(data, sender, recipient, copies)
            except _Retry as exc:
                last = str(exc)
                self._drop()
                if exc.connecting and attempt == self.attempts - 1:
                    raise MailError(
                        f"cannot connect to the SMTP server {self.where}: {last}"
                    ) from None
        return Delivery(
            Status.FAILED, f"temporary failure, gave up after {self.attempts} tries: {last}"
        )

    def _transaction(
        self, data: bytes, sender: str, recipient: str, copies: tuple[str, ...] = ()
    ) -> Delivery:
        self._pace()
        conn = self._ready()
        conn.end_of_data_sent = False
        utf8 = bool(conn.has_extn("smtputf8"))
        if not utf8 and not (sender.isascii() and recipient.isascii()):
            return Delivery(
                Status.FAILED,
                f"the address {recipient if not recipient.isascii() else sender} has "
                f"characters beyond ASCII before the @, and the mail server {self.where} "
                "does not offer SMTPUTF8 to carry it; ask the partner for another address",
            )
        everyone = (sender, recipient, *copies)
        options = ["SMTPUTF8"] if utf8 and not all(a.isascii() for a in everyone) else []
        try:
            code, reply = conn.mail(sender, options)
            if code != 250:
                self._refused("MAIL FROM", code, reply, conn)
                raise MailError(
                    f"the SMTP server {self.where} refused the sender {sender}: "
                    f"{code} {_text(reply)}; check [sender] email and [mail] username"
                )
            code, reply = conn.rcpt(recipient)
            if code not in (250, 251):
                self._refused("RCPT TO", code, reply, conn)
                return Delivery(Status.FAILED, f"{code} {_text(reply)}")
            said = []
            for copy in copies:  # a refused copy never costs the partner their email
                if not (utf8 or copy.isascii()):
                    said.append(f"{copy} left out ({self.no_utf8_copy})")
                    continue
                code, reply = conn.rcpt(copy)
                took = code in (250, 251)
                said.append(copy if took else f"{copy} refused ({code} {_text(reply)})")
            code, reply = conn.data(data)
            if code == 250:
                also = f"; copies to {', '.join(said)}" if said else ""
                return Delivery(Status.SENT, f"{code} {_text(reply)}{also}")
            if conn.end_of_data_sent:
                self._refused("the message", code, reply, conn)
            else:
                self._refused("DATA", code, reply, conn)
            return Delivery(Status.FAILED, f"message refused: {code} {_text(reply)}")
        except UnicodeEncodeError as exc:  # an address smtplib cannot write: nothing went out
            self._drop()
            return Delivery(Status.FAILED, f"an address cannot be written for the server: {exc}")
        except smtplib.SMTPServerDisconnected as exc:
            if conn.end_of_data_sent:
                self._drop()
                return Delivery(
                    Status.UNCERTAIN,
                    f"the connection to {self.where} was lost after the message was sent and "
                    f"before the server confirmed it ({exc})",
                )
            raise _Retry(f"connection lost ({exc})") from None
        finally:
            self._last_used = self.clock()

    def _refused(self, step: str, code: int, reply: bytes, conn: PlainSmtp | SslSmtp) -> None:
        """Raise _Retry for 4xx; otherwise reset the transaction so the next one is clean."""
        if 400 <= code < 500 or code == -1:
            raise _Retry(f"{step}: {code} {_text(reply)}")
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()
