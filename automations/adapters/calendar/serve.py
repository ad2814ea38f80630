"""The reminders feed over HTTP on loopback, for a calendar app to subscribe to while
`partners schedule` runs (CLI.md): each request gets the feed made fresh."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from automations.errors import ServeError, ToolkitError, UsageError

LOG = logging.getLogger("partners.calendar")
PATH = "/calendar.ics"
Make = Callable[[str | None], bytes]  # the owner asked for (None: the default) -> the feed


@contextmanager
def serve_feed(port: int, make: Make) -> Iterator[str]:
    """Serve `make`'s feed at http://127.0.0.1:PORT/calendar.ics (`?owner=EMAIL`) until the
    block ends; yields the address (port 0: a free one is chosen)."""
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(make))
    except OSError as exc:
        raise ServeError(
            f"cannot serve the calendar on 127.0.0.1:{port} ({exc.strerror or exc}); "
            "choose another --calendar-port"
        ) from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="calendar-feed", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    finally:
        server.shutdown()
        server.server_close()


def _handler(make: Make) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != PATH:
                self._answer(404, f"the calendar is at {PATH}\n".encode(), "text/plain")
                return
            owner = next(iter(parse_qs(url.query).get("owner", [])), None)
            try:
                body = make(owner)
            except UsageError as exc:
                self._answer(404, f"{exc}\n".encode(), "text/plain")
                return
            except ToolkitError as exc:  # the sheet cannot be read now: try again later
                LOG.warning("calendar feed: %s", exc)
                self._answer(503, f"{exc}\n".encode(), "text/plain")
                return
            except Exception:  # a bug: the scheduler goes on, the log says where
                LOG.exception("calendar feed: internal error")
                self._answer(500, b"internal error\n", "text/plain")
                return
            self._answer(200, body, "text/calendar; charset=utf-8")

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            LOG.debug("calendar feed: " + format, *args)

    return Handler
