"""A journal written by main a265d42 (tests/data) opens with the state package: every send,
proposal, decision, counter and cursor survives, and the schema is brought up to date once."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from automations.adapters.state import Entry, Journal
from automations.adapters.state.db import VERSION, migrate, version

SHIPPED = Path(__file__).parent / "data" / "journal-main-a265d42.sqlite"
SHEET = "xlsx:data/partners.xlsx"


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "journal.sqlite3"
    path.parent.mkdir()
    shutil.copyfile(SHIPPED, path)
    return path


def _raw(path: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows read with sqlite3 alone, as the old code's tables hold them."""
    db = sqlite3.connect(path)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_the_shipped_journal_is_from_before_schema_versions_and_holds_every_store(
    shipped: Path,
) -> None:
    assert _raw(shipped, "PRAGMA user_version") == [(0,)]
    counts = {
        t: _raw(shipped, f"SELECT COUNT(*) FROM {t}")[0][0]
        for t in ("sends", "proposals", "decisions", "counters", "inbox", "job_runs")
    }
    assert counts == {
        "sends": 20,
        "proposals": 11,
        "decisions": 2,
        "counters": 2,
        "inbox": 2,
        "job_runs": 2,
    }


def test_a_journal_of_main_loses_nothing_on_its_first_open(shipped: Path) -> None:
    sends = _raw(
        shipped,
        "SELECT timestamp, run_id, action, partner_email, key, template, "
        "subject, message_id, status, detail, sheet FROM sends",
    )
    proposals = _raw(shipped, "SELECT ident, status, keys, data FROM proposals")
    decisions = _raw(shipped, "SELECT ident, verb, until, how FROM decisions")
    counters = dict(_raw(shipped, "SELECT name, value FROM counters"))
    placed = {p for (p,) in _raw(shipped, "SELECT pid FROM placed")}
    openings = dict(_raw(shipped, "SELECT message_id, text FROM openings"))

    journal = Journal(shipped, SHEET)
    assert version(journal.db) == VERSION
    everything = [*journal.entries(), *journal.other_sheets()]
    assert sorted(e.as_row() for e in everything) == sorted(list(r[:10]) for r in sends)
    assert journal.states(r[4] for r in sends) == {str(r[4]): r[8] for r in sends}
    assert {e.key for e in journal.other_sheets()} == {"thank:pat@lee.example:2025-06-01"}
    kept = {p.ident: p for p in journal.proposals()}
    assert {(i, kept[i].status, kept[i].data) for i, *_ in proposals} == {
        (str(i), s, bytes(d)) for i, s, _k, d in proposals
    }
    assert all(list(kept[str(i)].keys) == json.loads(str(k)) for i, _s, k, _d in proposals)
    decided = journal.kept_decisions()
    assert {
        (i, d.verb, d.until.isoformat() if d.until else "", how) for i, (d, how) in decided.items()
    } == set(decisions)
    assert {name: journal.counter(name) for name in counters} == counters
    assert journal.inbox_cursor("INBOX") == (1700000000, 42)
    assert journal.inbox_cursor("[Gmail]/Sent Mail") == (1700000001, 7)
    assert journal.job_runs()["replies"] == dt.datetime(2026, 12, 6, 8, 15, tzinfo=dt.UTC)
    assert journal.placed() == placed
    assert journal.openings(openings) == openings
    since = dt.datetime(2026, 12, 6, 6, 59, tzinfo=dt.UTC)
    assert journal.sent_since(since) == 3  # the pending message's 2 recipients, the uncertain one
    journal.close()


def test_each_kept_state_becomes_the_first_event_of_its_key(shipped: Path) -> None:
    journal = Journal(shipped, SHEET)
    journal.claim_unmarked()
    events = journal.events()
    assert {e.key for e in events} == {e.key for e in journal.entries()}
    assert [e.timestamp for e in events] == sorted(e.timestamp for e in events)
    journal.close()


def test_the_at_most_once_record_holds_across_the_migration(shipped: Path) -> None:
    journal = Journal(shipped, SHEET)
    moved = journal.recover("2026-12-06T09:00:00+00:00", "stopped mid-send")
    assert [(e.key, e.status) for e in moved] == [("thank:pat@lee.example:2026-11-01", "uncertain")]
    sent = Entry(
        "2026-12-06T09:01:00+00:00",
        "r",
        "thank",
        "pat@lee.example",
        "thank:pat@lee.example:2026-11-01",
        "thank",
        "Thanks",
        "<p1>",
        "sent",
        "",
    )
    journal.record([sent])
    history = [e.status for e in journal.events("thank:pat@lee.example:2026-11-01")]
    assert history == ["pending", "uncertain", "sent"]
    journal.close()


def test_a_second_open_runs_no_step(shipped: Path) -> None:
    Journal(shipped, SHEET).close()
    db = sqlite3.connect(shipped)
    try:
        assert migrate(db) == 0
        assert version(db) == VERSION
    finally:
        db.close()
    again = Journal(shipped, SHEET)
    assert len(again.events()) == 19  # the backfill did not run twice (one row is another sheet's)
    again.close()
    assert _raw(shipped, "PRAGMA user_version") == [(VERSION,)]


def test_a_journal_of_a_newer_version_is_refused_with_a_message(tmp_path: Path) -> None:
    from automations.errors import JournalError

    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    with pytest.raises(JournalError, match="newer version of the toolkit"):
        Journal(path)
