"""Mailers: where a built message goes (an outbox folder or an SMTP server)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
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

    def send(self, message: EmailMessage, sender: str, recipient: str, label: str) -> Delivery:
        """Deliver one message to one recipient (`label` names it, e.g. `thank`).

        Raises MailError only when the backend cannot be used at all.
        """
        ...

    def close(self) -> None:
        """Release the connection, if any."""
        ...
