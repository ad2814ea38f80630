"""The outbox backend: each message becomes an `.eml` file; nothing leaves the machine."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from automations.adapters.mail import Capabilities, Delivery
from automations.core.vocabulary import Status
from automations.errors import MailError

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
        """Write the message as a file, never over an earlier one (a second message of the
        same name gets `-2`, `-3`, …); its name says what and to whom (and the Log detail
        which copies would go, as Bcc leaves no trace in the file)."""
        stem = _UNSAFE.sub("_", name)
        tmp = ""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            target = _place(Path(tmp), self.folder, stem)
        except OSError as exc:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            raise MailError(
                f"cannot write to the outbox {self.folder}: {exc.strerror or exc}"
            ) from exc
        self.written.append(target)
        also = f"; copies to {', '.join(copies)}" if copies else ""
        return Delivery(Status.WRITTEN, f"{self.folder.name}/{target.name}{also}")

    def close(self) -> None:
        """Nothing to release."""


def _place(tmp: Path, folder: Path, stem: str) -> Path:
    """Give the written file `tmp` the first free name `stem.eml`, `stem-2.eml`, …: a hard
    link fails when the name is taken, so no earlier email is ever replaced, even by a run
    beside this one."""
    for n in range(1, 10_000):
        target = folder / (f"{stem}.eml" if n == 1 else f"{stem}-{n}.eml")
        try:
            os.link(tmp, target)
        except FileExistsError:
            continue
        except OSError:  # a folder without hard links: claim the name, then fill it
            try:
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            os.replace(tmp, target)
            return target
        tmp.unlink()
        return target
    raise OSError(f"no free file name for {stem}.eml")
