"""Getting a calendar feed's bytes (RULES.md, touches that record themselves): a private
address over HTTP(S) within one overall deadline, a size cap and a few redirects, or a
file. Every failure is an Unreadable whose reason never quotes the address."""

from __future__ import annotations

import base64
import contextlib
import http.client
import re
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

MAX_BYTES = 20 * 1024 * 1024  # a busy calendar of many years is a few MB
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# `https://`, `webcal://`, and typos of them (`htps://`, `https//`): an address, not a file.
_ADDRESS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:?//")


class Unreadable(Exception):
    """Why a feed could not be had, in words safe to print (no path, query or password)."""


def is_address(source: str) -> bool:
    """True for anything written as an address (even a mistyped one), not as a file."""
    return bool(_ADDRESS.match(source.strip()))


def shown(source: str) -> str:
    """The feed as the output may show it: an address's scheme and host, never its path,
    query or `user:password@` (a private iCal address is a password)."""
    text = source.strip()
    found = _ADDRESS.match(text)
    if not found:
        return "".join(c if c.isprintable() else "?" for c in text)
    scheme = found.group(0).rstrip(":/")
    netloc = re.split(r"[/?#\\]", text[found.end() :], maxsplit=1)[0]
    host = "".join(c if c.isprintable() else "?" for c in netloc.rpartition("@")[2])[:100]
    return f"{scheme}://{host}/…"


def read_source(source: str, base: Path, deadline: float) -> bytes:
    """The feed's bytes: an address fetched within `deadline` seconds in all, or a file."""
    text = source.strip()
    if not is_address(text):
        return _read_file(text, base)
    if text.lower().startswith("webcal://"):
        text = "https://" + text[len("webcal://") :]
    return _fetch(text, time.monotonic() + deadline, deadline)


def _read_file(source: str, base: Path) -> bytes:
    try:
        path = Path(source).expanduser()
        path = path if path.is_absolute() else base / path
        if path.stat().st_size > MAX_BYTES:
            raise Unreadable(f"the file is larger than {MAX_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from None
    except (ValueError, RuntimeError):  # a NUL in the path; `~user` of nobody
        raise Unreadable("the file name is not valid") from None


def _fetch(url: str, deadline: float, seconds: float) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        answer = _get(url, deadline, seconds)
        if answer.location is None:
            return answer.body
        url = urljoin(url, answer.location)
    raise Unreadable(f"the server redirected more than {MAX_REDIRECTS} times")


@dataclass
class _Answer:
    body: bytes = b""
    location: str | None = None


@dataclass
class _Watchdog:
    """Cuts the connection at the deadline, whatever it is waiting for (a server that
    drips a byte a second never trips a socket timeout)."""

    cut: threading.Event = field(default_factory=threading.Event)
    # Kept from the connect: http.client hands a body without a length to the response and
    # forgets the socket.
    sock: socket.socket | None = None

    def fire(self) -> None:
        self.cut.set()
        sock = self.sock
        if sock is not None:
            # The plain socket's shutdown: it wakes a read blocked in another thread.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _target(url: str) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise Unreadable("the address contains a space or a line break")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Unreadable("the address is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise Unreadable("an address starts with https://, http:// or webcal://")
    headers = {"User-Agent": "partner-automations", "Accept": "text/calendar, */*"}
    if parts.username is not None:
        headers["Authorization"] = _basic(parts.username, parts.password)
    # Percent-encoded as a browser would (`ü` in a path), what is encoded already kept.
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    path += f"?{quote(parts.query, safe='/%:@!$&()*+,;=~?')}" if parts.query else ""
    connection, absolute = _connection(scheme, parts.hostname, port)
    if absolute:  # a plain-HTTP proxy is asked for the whole address
        path = urlunsplit((scheme, parts.netloc.rpartition("@")[2], path, "", ""))
    return connection, path, headers


def _connection(
    scheme: str, host: str, port: int | None
) -> tuple[http.client.HTTPConnection, bool]:
    """A connection to the server, or through the proxy the environment names (HTTPS_PROXY,
    NO_PROXY: as urllib, which read the feeds before); True when it wants whole addresses."""
    kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return kind(host, port), False
    try:
        via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        via_port = via.port
    except ValueError:
        raise Unreadable(f"the proxy in {scheme.upper()}_PROXY is not a valid address") from None
    connection = kind(via.hostname or "", via_port or 8080)
    if scheme == "http":
        return connection, True
    tunnel = {"Proxy-Authorization": _basic(via.username, via.password)} if via.username else {}
    connection.set_tunnel(host, port, headers=tunnel)
    return connection, False


def _basic(user: str | None, password: str | None) -> str:
    pair = f"{unquote(user or '')}:{unquote(password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _get(url: str, deadline: float, seconds: float) -> _Answer:
    connection, path, headers = _target(url)
    left = deadline - time.monotonic()
    if left <= 0:
        raise Unreadable(f"no complete answer within {seconds:g} s")
    connection.timeout = left
    watchdog = _Watchdog()
    timer = threading.Timer(left, watchdog.fire)
    timer.daemon = True
    timer.start()
    try:
        connection.connect()  # bounded by the connection's timeout: what is left
        watchdog.sock = connection.sock
        answer = _exchange(connection, path, headers)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if watchdog.cut.is_set() or isinstance(exc, TimeoutError):
            raise Unreadable(f"no complete answer within {seconds:g} s") from None
        raise Unreadable(_reason(exc)) from None
    finally:
        timer.cancel()
        connection.close()
    if watchdog.cut.is_set():  # a body without a length that was cut looks whole
        raise Unreadable(f"no complete answer within {seconds:g} s")
    return answer


def _exchange(
    connection: http.client.HTTPConnection, path: str, headers: dict[str, str]
) -> _Answer:
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    if answer.status in _REDIRECTS:
        location = answer.getheader("Location")
        if not location:
            raise Unreadable(f"the server answered {answer.status} without saying where to")
        return _Answer(location=location)
    if answer.status != 200:
        raise Unreadable(f"the server answered {answer.status} {answer.reason[:60]}".strip())
    declared = answer.getheader("Content-Length") or ""
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise Unreadable(f"the feed is larger than {MAX_BYTES // 2**20} MB")
    body = bytearray()
    while chunk := answer.read(64 * 1024):
        body += chunk
        if len(body) > MAX_BYTES:
            raise Unreadable(f"the feed is larger than {MAX_BYTES // 2**20} MB")
    if declared.isdigit() and len(body) < int(declared):  # read(n) does not say so itself
        raise http.client.IncompleteRead(bytes(body), int(declared) - len(body))
    return _Answer(bytes(body))


def _reason(exc: BaseException) -> str:
    """Words for a network failure; never the library's text, which may quote the address."""
    if isinstance(exc, ValueError):  # a host name that cannot be encoded, say
        return "the address is not valid"
    if isinstance(exc, http.client.IncompleteRead):
        return "the answer ended early"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, (http.client.BadStatusLine, http.client.LineTooLong)):
        return "the answer is not HTTP"
    if isinstance(exc, http.client.HTTPException):
        return "the answer is not valid HTTP"
    if isinstance(exc, socket.gaierror):
        return "the host name was not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionError):
        return "the connection was broken"
    if type(exc).__module__ == "ssl":
        return "the secure connection failed (certificate or TLS)"
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
