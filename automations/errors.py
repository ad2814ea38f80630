"""Every error class of the toolkit (ARCHITECTURE.md, Rooms): each carries the context a
user needs to act. The bottom layer, so the pure core raises its own from here too.

    Exception
    ├── ToolkitError              told to the user, never a traceback (exit code 2)
    │   ├── ConfigError           the config file is missing, unreadable or invalid
    │   ├── SheetError            the sheet cannot be read or written
    │   │   └── SheetStructureError
    │   ├── LockHeldError         another run holds the lock
    │   ├── LoginNeeded           a person must run `partners login`
    │   ├── UsageError            a command line the toolkit cannot act on
    │   ├── TokenEndpointError    a sign-in server answered nonsense
    │   │   └── Unreachable       ... or did not answer at all
    │   ├── MailError             the mail server cannot be used at all
    │   ├── InboxError            the inbox cannot be reached or read
    │   ├── JournalError          the journal database cannot be opened or written
    │   ├── CalendarError         a calendar feed cannot be read (a warning)
    │   ├── ExportError           the calendar file cannot be written
    │   ├── ServeError            the calendar feed cannot be served
    │   ├── PreviewError          `partners preview` has nothing to show (exit code 1)
    │   ├── ResolveError          `partners resolve` got a key it cannot settle
    │   ├── ReviewError           `partners review` got a key of no open proposal
    │   └── SandboxError          `partners sandbox` cannot start or act
    ├── HeaderProblem             the core: a value that cannot go into a header
    ├── TemplateFault             the core: a template that cannot render
    └── ValueError
        ├── ValueProblem          the core: a cell that is not its column's type
        ├── WindowProblem         the core: a send-window key that cannot be read
        └── LinkRefused           the core: why the linked columns cannot be added

The core's errors are not ToolkitErrors: the layer above catches each and says it in the
user's terms (the cell, the config key, the tab), so none reaches the user bare.

Private control flow stays beside the code that raises and catches it, never reaching a
user (tests/test_errors.py names them): `_MayHaveLanded` (adapters/sheet/google.py, a
write that may have reached Google), `_Retry` (adapters/mail/smtp.py), `Unreadable`
(adapters/calendar/fetch.py) and `NotCalendar` (adapters/calendar/events.py), both turned
into a CalendarError, and the Sheets emulator's `ApiError` (testing/grid.py) and
`RangeError` (testing/a1.py), which become HTTP answers.
"""

from __future__ import annotations


class ToolkitError(Exception):
    """Base of every error the toolkit reports to a user (never a traceback)."""

    exit_code = 2


class ConfigError(ToolkitError):
    """The configuration file is missing, unreadable or invalid."""


class SheetError(ToolkitError):
    """The sheet could not be read or written (file, tab or API)."""


class SheetStructureError(SheetError):
    """A tab lacks a column the run cannot do without."""


class LockHeldError(ToolkitError):
    """Another run holds the lock for this sheet."""


class LoginNeeded(ToolkitError):
    """A sign-in is missing, expired or revoked: a person must run `partners login`."""


class UsageError(ToolkitError):
    """A command line the toolkit cannot act on."""


class TokenEndpointError(ToolkitError):
    """The provider's token endpoint could not be reached or answered nonsense."""


class Unreachable(TokenEndpointError):
    """No answer at all from a sign-in server (no network, refused, timed out): the reason."""


class MailError(ToolkitError):
    """The mail server cannot be used at all (connection, TLS, login): the run stops."""


class InboxError(ToolkitError):
    """The inbox cannot be reached, logged in to or read."""


class JournalError(ToolkitError):
    """The journal database cannot be opened or written."""


class CalendarError(ToolkitError):
    """A calendar feed that could not be read (a warning: the run goes on)."""


class ExportError(ToolkitError):
    """The calendar file could not be written."""


class ServeError(ToolkitError):
    """The feed could not be served (the port is taken, say)."""


class PreviewError(ToolkitError):
    """The preview cannot be made (unknown partner or template, nothing to show)."""

    exit_code = 1


class ResolveError(ToolkitError):
    """`partners resolve` was given a key it cannot settle."""


class ReviewError(ToolkitError):
    """A key given to `partners review` names no open proposal."""


class SandboxError(ToolkitError):
    """The sandbox cannot start or act."""


class HeaderProblem(Exception):
    """A value that cannot go into a header (a line break from a sheet cell)."""


class TemplateFault(Exception):
    """A template that cannot render: which file, which line, what is wrong."""

    def __init__(self, label: str, line: int | None, message: str) -> None:
        where = f"{label} line {line}" if line else label
        super().__init__(f"{where}: {message}")
        self.label = label
        self.line = line
        self.message = message


class ValueProblem(ValueError):
    """A cell value that cannot be read as its column's type."""


class WindowProblem(ValueError):
    """A send-window key that cannot be read; `key` names it (`send_hours`)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class LinkRefused(ValueError):
    """Why the columns cannot be added; the message says what to do."""
