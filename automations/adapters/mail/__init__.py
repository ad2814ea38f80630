"""Mailers: where a built message goes (an outbox folder or an SMTP server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from automations.errors import ToolkitError


class MailError(ToolkitError):
    """The mail server cannot be used at all (connection, TLS, login): the run stops."""


@dataclass(frozen=True)
class Delivery:
    """What happened to one message: `sent`, `written`, `failed` or `uncertain`, and why."""

    status: str
    detail: str = ""


class Mailer(Protocol):
    """What every mail backend does."""

    backend: str

    def send(self, data: bytes, sender: str, recipient: str, name: str) -> Delivery:
        """Deliver one message (its bytes) to one recipient; `name` says which, for files.

        Raises MailError only when the backend cannot be used at all.
        """
        ...

    def close(self) -> None:
        """Release the connection, if any."""
        ...
