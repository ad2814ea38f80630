"""SpamAssassin's local rules over several messages in one process: its rules take most of a
second to load, so each test module scores all its messages at once (`--mbox`)."""

from __future__ import annotations

import mailbox
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SPAM_CEILING = 1.0

needs_spamassassin = pytest.mark.skipif(
    not shutil.which("spamassassin"), reason="spamassassin is not installed"
)


def spam_scores(paths: list[Path]) -> dict[Path, float]:
    """Each message's SpamAssassin score with only its local rules (no network tests)."""
    with tempfile.TemporaryDirectory() as folder:
        box_path = Path(folder) / "messages.mbox"
        box = mailbox.mbox(box_path)
        for path in paths:
            box.add(mailbox.mboxMessage(path.read_bytes()))
        box.close()
        with box_path.open("rb") as messages:
            checked = subprocess.run(
                ["spamassassin", "-L", "-t", "--mbox"],
                stdin=messages,
                capture_output=True,
                timeout=300,
            )
    scores = re.findall(rb"^X-Spam-Status: \w+, score=(-?[\d.]+)", checked.stdout, re.MULTILINE)
    assert len(scores) == len(paths), checked.stderr[-500:]
    return {path: float(score) for path, score in zip(paths, scores, strict=True)}
