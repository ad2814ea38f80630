"""An in-memory mailer for job tests that need no server: it keeps every message it gets."""

from __future__ import annotations

from dataclasses import dataclass, field

from automations.adapters.mail import Capabilities, Delivery
from automations.core.vocabulary import Status
from automations.errors import MailError

DELIVERS = Capabilities(delivers=True, capped=True, files_copies=False, verb="sent")


@dataclass
class Sent:
    """One message as the mailer took it."""

    sender: str
    recipient: str
    data: bytes


@dataclass
class MemoryMailer:
    """Takes messages like a server would: `refuse[address]` answers that recipient with a
    reply (`550 5.1.1 no such mailbox`), `down` makes it unreachable."""

    capabilities: Capabilities = field(default_factory=lambda: DELIVERS)
    refuse: dict[str, str] = field(default_factory=dict)
    down: bool = False
    sent: list[Sent] = field(default_factory=list)
    backend: str = "memory"

    def send(
        self, data: bytes, sender: str, recipient: str, name: str, copies: tuple[str, ...] = ()
    ) -> Delivery:
        """Keep the message (or refuse it as planned)."""
        if self.down:
            raise MailError("the in-memory mail server is down (as the test planned)")
        if recipient in self.refuse:
            return Delivery(Status.FAILED, self.refuse[recipient])
        self.sent.append(Sent(sender, recipient, data))
        self.sent.extend(Sent(sender, copy, data) for copy in copies)
        return Delivery(Status.SENT, "250 kept in memory")

    def close(self) -> None:
        """Nothing to release."""

    def to(self, recipient: str) -> list[Sent]:
        """The messages kept for `recipient`."""
        return [m for m in self.sent if m.recipient == recipient]
