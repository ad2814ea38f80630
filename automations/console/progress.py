"""The progress bar of a run that sends many emails (standard error)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from automations.jobs.sending import Outgoing


class SendingProgress:
    """A progress bar on standard error while a run sends more than a handful of emails:
    the count, the last recipient and the time left (pacing can make a run last minutes).
    Silent with `-q` and for a handful; in a pipe or cron, rich prints only the last state."""

    def __init__(self, quiet: bool, from_count: int) -> None:
        self.quiet, self.from_count = quiet, from_count
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int, prepared: Outgoing, delivery: object) -> None:
        """Called after each message (the Progress hook of `jobs.sending.deliver`)."""
        if self.quiet or total < self.from_count:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[to]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("sending", total=total, to="")
        assert self._task is not None
        self._bar.update(self._task, completed=done, to=prepared.draft.to_email)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Stop drawing (also when a run stops early)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
