"""`partners sandbox` (CLI.md): the real path on one machine, rehearsed as a user would, in
processes: Google Sheet (the emulator), SMTP, IMAP and approval by reply; Ctrl-C stops it all."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from automations.demo.workbook import SENDER

pytest.importorskip("aiosmtpd")


def partners(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "automations", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def kept(folder: Path) -> list[tuple[str, str]]:
    """(To, Subject) of every email the sandbox's SMTP server received, in order."""
    out = []
    for path in sorted((folder / "sandbox-mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        out.append((str(message["To"]), str(message["Subject"])))
    return out


def review_text(folder: Path) -> str:
    """The text of the review email the sandbox kept."""
    for path in sorted((folder / "sandbox-mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if "wait for your approval" in str(message["Subject"]):
            return str(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    raise AssertionError("no review email")


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_the_sandbox_sends_over_smtp_reads_replies_and_approvals_shows_health_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sandbox"
    box = subprocess.Popen(
        [sys.executable, "-m", "automations", "sandbox", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("Ctrl-C here stops"):
            line = box.stdout.readline()  # type: ignore[union-attr]
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        smtp, imap = (int(re.search(rf"{w}\s+127.0.0.1:(\d+)", text)[1]) for w in ("SMTP", "IMAP"))  # type: ignore[index]
        view = re.search(r"(http://127.0.0.1:\d+/view)", text)[1]  # type: ignore[index]

        first = partners(folder, "nurture", "--send")
        assert first.returncode in (0, 1), first.stderr
        review = [s for to, s in kept(folder) if SENDER in to and "wait for your approval" in s]
        assert review, kept(folder)  # the review email went over SMTP, to the user's inbox
        body = review_text(folder)
        first_to = re.search(r"1\. To [^(]+\(([^)]+)\)", body)[1]  # type: ignore[index]
        chased = re.search(r"\d+\. To [^(]+\(([^)]+)\), follow-up", body)[1]  # type: ignore[index]

        assert (
            partners(folder, "sandbox", ".", "--reply", chased, "Thanks, talk soon").returncode == 0
        )
        assert partners(folder, "sandbox", ".", "--reply", SENDER, "send 1").returncode == 0
        second = partners(folder, "nurture", "--send")
        assert second.returncode in (0, 1), second.stderr

        sent_to = " ".join(to for to, _ in kept(folder))
        assert first_to in sent_to  # "send 1" approved the first proposal: it went
        assert chased not in sent_to
        page = urllib.request.urlopen(view, timeout=10).read().decode()
        review_tab = page.split("<h2 id='sandbox-Review'>")[1]
        row = next(r for r in review_tab.split("<tr>") if chased in r and "follow_up" in r)
        assert "withdrawn" in row  # the partner replied: the follow-up is withdrawn, never sent
        assert "<h2 id='sandbox-Health'>Health</h2>" in page and chased in page
    finally:
        box.send_signal(signal.SIGINT)
        assert box.wait(timeout=20) == 0
    assert "sandbox stopped" in box.stdout.read()  # type: ignore[union-attr]
    assert not any(listening(p) for p in (smtp, imap, int(view.split(":")[2].split("/")[0])))


def test_a_reply_into_a_sandbox_that_is_not_running_says_to_start_it() -> None:
    # Found walking the README: it was `internal error` (ConnectionRefusedError).
    from automations.errors import SandboxError
    from automations.sandbox import append_to_inbox
    from tests.smtp_server import free_port

    with pytest.raises(SandboxError, match="is the sandbox running"):
        append_to_inbox(free_port(), b"Subject: hi\r\n\r\nhello\r\n")
