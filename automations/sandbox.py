"""`partners sandbox` (CLI.md): the real path on one machine, on loopback only.

An SMTP server that keeps every message it receives (and puts the ones to the user in the
user's inbox), an IMAP server holding that inbox (pymap, in memory), and the Sheets emulator
holding the sample workbook with a read-only HTML view. It writes a project whose config
points at them; Ctrl-C stops everything it started. aiosmtpd and pymap are dev extras.
"""

from __future__ import annotations

import imaplib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from automations.errors import SandboxError

IMAP_USER, IMAP_PASSWORD = "demouser", "demopass"  # pymap's demo account
SHEET_ID = "sandbox"
NEEDS = "the sandbox needs the dev extras: pip install -e '.[dev]' (aiosmtpd and pymap)"


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SandboxError(f"the IMAP server (pymap) did not start on 127.0.0.1:{port}")


def append_to_inbox(port: int, raw: bytes) -> None:
    """Put one message in the sandbox user's INBOX (IMAP APPEND)."""
    try:
        conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    except OSError:
        raise SandboxError(
            f"the sandbox's inbox (127.0.0.1:{port}) does not answer: is the sandbox running? "
            "Start it with `partners sandbox FOLDER` in another terminal first"
        ) from None
    try:
        conn.login(IMAP_USER, IMAP_PASSWORD)
        conn.append("INBOX", None, None, raw)
    finally:
        conn.logout()


class Keeper:
    """The SMTP handler: every message kept as an .eml file; mail to the user to the inbox."""

    def __init__(self, folder: Path, user: str, deliver: Callable[[bytes], None]) -> None:
        self.folder, self.user, self.deliver = folder, user.lower(), deliver
        self.count = len(list(folder.glob("*.eml")))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        self.count += 1
        raw = envelope.original_content or envelope.content
        (self.folder / f"{self.count:04d}.eml").write_bytes(raw)
        if any(r.lower() == self.user for r in envelope.rcpt_tos):
            self.deliver(raw)
        return "250 kept by the sandbox"


def set_keys(config: Path, section: str, values: dict[str, Any]) -> None:
    """Change keys of one [section] of a config written by `partners init`."""

    def line(key: str, value: Any) -> str:
        if isinstance(value, bool):
            return f"{key} = {'true' if value else 'false'}"
        return f"{key} = {value}" if isinstance(value, int | float) else f'{key} = "{value}"'

    out: list[str] = []
    current, seen = "", set[str]()
    for text in config.read_text(encoding="utf-8").splitlines():
        stripped = text.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if current == section:
                out += [line(k, v) for k, v in values.items() if k not in seen]
                seen.update(values)
            current = stripped.strip("[]")
        key = stripped.split("=", 1)[0].strip() if "=" in stripped else ""
        if current == section and key in values:
            out.append(line(key, values[key]))
            seen.add(key)
        else:
            out.append(text)
    if current == section:
        out += [line(k, v) for k, v in values.items() if k not in seen]
    config.write_text("\n".join(out) + "\n", encoding="utf-8")


def write_config(folder: Path, smtp: int, imap: int, sheets: str) -> None:
    """Point the project's config at the sandbox's servers (secrets in its .env)."""
    config = folder / "config" / "partners.toml"
    set_keys(config, "sheet", {"backend": "google", "spreadsheet": SHEET_ID})
    mail = {"backend": "smtp", "host": "127.0.0.1", "port": smtp, "security": "none"}
    set_keys(config, "mail", {**mail, "max_per_minute": 0, "timeout": 10.0})
    imap_keys = {"host": "127.0.0.1", "port": imap, "security": "none", "username": IMAP_USER}
    set_keys(config, "imap", {**imap_keys, "timeout": 10.0})
    form = "https://docs.google.com/forms/d/e/sandbox/viewform"
    set_keys(config, "survey", {"form_url": form})
    (folder / ".env").write_text(
        f"SHEETS_EMULATOR_HOST={sheets}\nPARTNERS_IMAP_PASSWORD={IMAP_PASSWORD}\n",
        encoding="utf-8",
    )


def reply(folder: Path, sender: str, text: str, imap_port: int, user: str) -> str:
    """Drop into the sandbox inbox a reply from `sender` to the latest email kept for them
    (a partner's answer, or the user's answer to a review email), else a fresh email from
    them to the user; what was answered."""
    answer = EmailMessage()
    answer["From"] = sender
    answer["To"] = user
    answer["Subject"] = "Re: our conversation"
    answered = "a new email to you (no email to them was kept, so nothing to answer)"
    for path in sorted(folder.glob("sandbox-mail/*.eml"), reverse=True):
        original = message_from_bytes(path.read_bytes(), policy=policy.default)
        if sender.lower() in str(original.get("To", "")).lower():
            del answer["To"], answer["Subject"]
            answer["To"] = str(original.get("Reply-To") or original["From"])
            subject = re.sub(r"^(re:\s*)+", "", str(original["Subject"]), flags=re.I)
            answer["Subject"] = "Re: " + subject
            answer["In-Reply-To"] = answer["References"] = str(original["Message-ID"])
            answered = f"{path.name}: {original['Subject']}"
            break
    answer["Message-ID"] = make_msgid(domain="sandbox.example")
    answer.set_content(text + "\n")
    append_to_inbox(imap_port, answer.as_bytes())
    return answered


def run_sandbox(folder: Path, user: str, say: Callable[[str], None]) -> None:
    """Start the servers, write the config, wait for Ctrl-C, stop everything."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        raise SandboxError(NEEDS) from None
    from automations.testing.sheets_emulator import SheetsEmulator

    pymap = Path(sys.executable).parent / "pymap"
    if not pymap.exists():
        raise SandboxError(NEEDS)
    imap_port, smtp_port = free_port(), free_port()
    (folder / "sandbox-mail").mkdir(exist_ok=True)
    emulator = SheetsEmulator().start()
    emulator.load_workbook(folder / "data" / "partners.xlsx", SHEET_ID)
    server = ["--host", "127.0.0.1", "--port", str(imap_port), "--no-tls"]
    imap = subprocess.Popen(
        [str(pymap), *server, "dict", "--demo-data"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # stopped by us, after the others, not by the terminal
    )
    controller: Any = None
    # Ctrl-C and SIGTERM both stop it, even when started where SIGINT was ignored (`&`).
    previous = {
        sig: signal.signal(sig, signal.default_int_handler)
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        _wait_for(imap_port, imap)
        keeper = Keeper(folder / "sandbox-mail", user, lambda raw: append_to_inbox(imap_port, raw))
        controller = Controller(keeper, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        write_config(folder, smtp_port, imap_port, emulator.host)
        for line in instructions(folder, emulator.host, smtp_port, imap_port, user):
            say(line)
        stop = threading.Event()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        say("sandbox stopped: SMTP, IMAP and the Sheets emulator are down.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if controller is not None:
            controller.stop()
        emulator.stop()
        imap.terminate()
        try:
            imap.wait(timeout=10)
        except subprocess.TimeoutExpired:
            imap.kill()


def instructions(folder: Path, sheets: str, smtp: int, imap: int, user: str) -> list[str]:
    """What the user can do now, in another terminal."""
    config = folder / "config" / "partners.toml"
    beside = Path(sys.executable).parent / "partners"  # works without the venv activated
    me = str(beside) if beside.exists() else f"{sys.executable} -m automations"
    return [
        f"sandbox in {folder} (config {config}):",
        f"  SMTP  127.0.0.1:{smtp}  keeps every email in {folder / 'sandbox-mail'}",
        f"  IMAP  127.0.0.1:{imap}  your inbox ({IMAP_USER} / {IMAP_PASSWORD})",
        f"  Sheet http://{sheets}/view  every tab, read-only (refreshes itself)",
        "In another terminal:",
        f"  cd {folder}",
        f"  {me} nurture            # the dry run: what would go",
        f"  {me} nurture --send     # proposals: the review email reaches your inbox",
        f"  {me} sandbox {folder} --reply {user} 'send 1'   # approve by reply",
        f"  {me} sandbox {folder} --reply PARTNER@EMAIL 'Thanks!'   # a partner answers",
        f"  {me} nurture --send     # reads the inbox, sends what you approved",
        "Ctrl-C here stops everything the sandbox started.",
    ]
