"""The runs store: when each scheduled job last ran (CLI.md, `partners schedule`)."""

from __future__ import annotations

import datetime as dt

from automations.adapters.state.db import Store
from automations.errors import JournalError


class Runs(Store):
    """The `job_runs` table."""

    def job_runs(self) -> dict[str, dt.datetime]:
        """When each scheduled job last ran."""
        with self.reading() as db:
            rows = db.execute("SELECT job, at FROM job_runs").fetchall()
        try:
            return {job: dt.datetime.fromisoformat(at) for job, at in rows}
        except ValueError as exc:
            raise JournalError(f"journal {self.path} cannot be read: {exc}") from exc

    def record_job_run(self, job: str, when: dt.datetime) -> None:
        """Remember that `job` ran at `when`."""
        with self.writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO job_runs (job, at) VALUES (?, ?)", (job, when.isoformat())
            )
