"""The outbox backend: each message becomes an `.eml` file; nothing leaves the machine."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from automations.adapters.mail import Capabilities, Delivery, MailError

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


class OutboxMailer:
    """Writes `<folder>/<name>.eml` (kind, recipient, id) atomically."""

    backend = "outbox"
    capabilities = Capabilities(
        delivers=False, capped=False, files_copies=False, verb="written to the outbox"
    )

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.written: list[Path] = []

    def send(
        self, data: bytes, sender: str, recipient: str, name: str, copies: tuple[str, ...] = ()
    ) -> Delivery:
        """Write the message as a file; its name says what and to whom (and the Log detail
        which copies would go, as Bcc leaves no trace in the file)."""
        name = _UNSAFE.sub("_", name) + ".eml"
        target = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise MailError(
                f"cannot write to the outbox {self.folder}: {exc.strerror or exc}"
            ) from exc
        self.written.append(target)
        also = f"; copies to {', '.join(copies)}" if copies else ""
        return Delivery("written", f"{self.folder.name}/{name}{also}")

    def close(self) -> None:
        """Nothing to release."""
