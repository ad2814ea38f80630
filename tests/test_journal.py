"""The journal (SQLite) and the run lock: what survives a crash, what blocks a second run."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from automations.adapters.lock import RunLock
from automations.adapters.state import Entry, Journal
from automations.errors import LockHeldError


def entry(
    key: str, status: str, when: str = "2026-11-25T09:00:00+00:00", mid: str = "<m>"
) -> Entry:
    return Entry(when, "run1", "thank", "pat@p.example", key, "thank", "Thanks", mid, status, "")


def test_a_key_keeps_only_its_latest_state(tmp_path: Path) -> None:
    j = Journal(tmp_path / "state" / "journal.sqlite3")
    j.record([entry("k1", "pending")])
    j.record([entry("k1", "sent")])
    assert j.states(["k1", "k2"]) == {"k1": "sent"}
    assert [e.status for e in j.entries()] == ["sent"]


def test_every_transition_of_a_key_is_kept_as_an_event_with_its_time(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.sqlite3")
    j.record([entry("k1", "pending", "2026-11-25T09:00:00+00:00")])
    j.record([entry("k2", "written", "2026-11-25T09:00:30+00:00")])
    j.record([entry("k1", "sent", "2026-11-25T09:00:01+00:00")])
    assert [(e.status, e.timestamp[11:19]) for e in j.events("k1")] == [
        ("pending", "09:00:00"),
        ("sent", "09:00:01"),
    ]
    assert [e.key for e in j.events()] == ["k1", "k2", "k1"]  # in the order they happened


def test_pending_left_by_a_crash_becomes_uncertain_once(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    j = Journal(path)
    j.record([entry("k1", "sent"), entry("k2", "pending")])
    j.close()
    again = Journal(path)
    moved = again.recover("2026-11-25T10:00:00+00:00", "stopped mid-send")
    assert [(e.key, e.status, e.detail) for e in moved] == [("k2", "uncertain", "stopped mid-send")]
    assert again.states(["k1", "k2"]) == {"k1": "sent", "k2": "uncertain"}
    assert again.recover("2026-11-25T11:00:00+00:00", "x") == []


def test_what_was_recorded_survives_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    code = (
        f"import os, signal, sys; sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
        "from automations.adapters.state import Entry, Journal\n"
        f"j = Journal(__import__('pathlib').Path({str(path)!r}))\n"
        "j.record([Entry('t', 'r', 'thank', 'p@x', 'k1', 't', 's', '<m>', 'pending', '')])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    assert Journal(path).states(["k1"]) == {"k1": "pending"}


def test_sent_since_counts_recipients_of_the_last_24_hours_once_per_message(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    j.record(
        [
            entry("a1", "sent", "2026-11-24T08:00:00+00:00", "<old>"),
            entry("b1", "sent", "2026-11-25T08:00:00+00:00", "<b>"),
            entry("b2", "sent", "2026-11-25T08:00:00+00:00", "<b>"),  # same message, two keys
            entry("c1", "uncertain", "2026-11-25T08:30:00+00:00", "<c>"),
            entry("d1", "failed", "2026-11-25T08:40:00+00:00", "<d>"),
            entry("e1", "written", "2026-11-25T08:50:00+00:00", "<e>"),
        ]
    )
    since = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    assert j.sent_since(since) == 2
    j.record([entry("f1", "sent", "2026-11-25T09:00:00+00:00", "<f>")], {"<f>": 3})
    assert j.sent_since(since) == 5  # a message with two copies counts its three recipients


def test_a_second_lock_on_the_same_folder_is_refused_at_once(tmp_path: Path) -> None:
    lock = tmp_path / "state" / "run.lock"
    held = RunLock(lock).__enter__()
    with pytest.raises(LockHeldError, match="another partners run is working on this sheet"):
        RunLock(lock).__enter__()
    held.__exit__(None, None, None)
    with RunLock(lock):  # released: the next run may start
        pass


def test_a_proposal_kept_by_an_earlier_version_is_read_with_its_copies_unknown(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE proposals (ident TEXT, keys TEXT, kind TEXT, template TEXT, partners TEXT,"
        " to_email TEXT, to_name TEXT, owner TEXT, subject TEXT, preview TEXT, why TEXT,"
        " proposed_at TEXT, status TEXT, detail TEXT, later_until TEXT, review_id TEXT,"
        " number TEXT, data BLOB, sheet TEXT NOT NULL DEFAULT '', PRIMARY KEY (ident))"
    )
    old.execute(
        "INSERT INTO proposals VALUES ('<p1>', '[\"thank:pat@p.example:2026-11-01\"]', 'thank',"
        " 'thank', '[\"pat@p.example\"]', 'pat@p.example', 'Pat', 'me@x.example', 'Thanks',"
        " 'Hi', 'a referral', '2026-11-25T09:00:00+00:00', 'waiting', '', '', '', 0, X'', '')"
    )
    old.commit()
    old.close()
    [kept] = Journal(path).proposals()
    assert kept.keys == ("thank:pat@p.example:2026-11-01",) and kept.copies is None
