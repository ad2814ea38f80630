"""Mailers: where a built message goes (an outbox folder, an SMTP server, or memory)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from automations.core.vocabulary import Status


@dataclass(frozen=True)
class Delivery:
    """What happened to one message: `sent`, `written`, `failed` or `uncertain`, and why."""

    status: Status
    detail: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a kind of mailer does, so jobs ask it instead of comparing backend names."""

    delivers: bool  # a message reaches a person (SMTP); the outbox only writes a file
    capped: bool  # max_per_run and max_per_day (rolling 24 hours) apply
    files_copies: bool  # `[imap] save_sent` may file a copy of each message in Sent
    verb: str  # how a person says what happened: "sent", "written to the outbox"


class Mailer(Protocol):
    """What every mail backend does."""

    backend: str
    capabilities: Capabilities

    def send(
        self, data: bytes, sender: str, recipient: str, name: str, copies: tuple[str, ...] = ()
    ) -> Delivery:
        """Deliver one message (its bytes) to one recipient and its `copies` (Cc and Bcc
        addresses, extra envelope recipients); `name` says which, for files.

        Raises MailError only when the backend cannot be used at all.
        """
        ...

    def close(self) -> None:
        """Release the connection, if any."""
        ...
