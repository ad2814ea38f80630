"""Benchmark: 1,000 emails through `partners nurture --send` against the bare-smtplib floor.

Both are timed as whole processes against the same local aiosmtpd server, in the
same run:
- the job: `python -m automations nurture --send` on a workbook with 1,000 partners
  that each have one email due (500 thanks, 500 check-ins): read the sheet, decide,
  render, journal, send over SMTP, write Health and the Log;
- the floor: a bare script that builds the same 1,000 messages (same recipients,
  subjects, text and HTML) with EmailMessage and sends them over one smtplib connection.
- a second floor: the same loop sending plain one-part messages (text only), what
  mailmerge is measured against.
Prints the median of a few rounds of each and the ratios (targets: 1.2 and 1.5).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from automations.adapters.sheet.xlsx import write_workbook
from automations.jobs.init import run_init
from tests.smtp_server import free_port

EMAILS = 1_000
ROUNDS = 5
TODAY = dt.date.today()

FLOOR = r"""
import json, smtplib, sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
items = json.load(open(path, encoding="utf-8"))
conn = smtplib.SMTP(host, port, timeout=30)
for item in items:
    msg = EmailMessage()
    msg["From"] = item["from"]
    msg["To"] = item["to"]
    msg["Subject"] = item["subject"]
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="rivera-consulting.example")
    msg.set_content(item["text"])
    msg.add_alternative(item["html"], subtype="html")
    conn.send_message(msg)
conn.quit()
"""


# What mailmerge is measured against: plain one-part messages, one connection.
FLOOR_PLAIN = FLOOR.replace('    msg.add_alternative(item["html"], subtype="html")\n', "")


class Counter:
    """Accepts every message and keeps the last batch, to check what arrived."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(bytes(envelope.content))
        return "250 OK"


def sheet(today: dt.date) -> dict[str, list[list[Any]]]:
    """1,000 active partners: even ones sent a referral 3 days ago, odd ones went quiet."""
    partners = [["name", "email", "company", "status", "first_contact"]]
    referrals = [["date", "direction", "partner_email", "client", "status"]]
    touches = [["date", "partner_email", "kind", "direction"]]
    for i in range(EMAILS):
        email = f"partner{i}@firm{i % 97}.example"
        partners.append([f"Partner {i}", email, f"Firm {i}", "active", "2024-01-15"])
        if i % 2 == 0:
            day = (today - dt.timedelta(days=3)).isoformat()
            referrals.append([day, "received", email, f"Client {i}", "new"])
        else:
            touches.append([(today - dt.timedelta(days=200)).isoformat(), email, "call", "in"])
    return {"Partners": partners, "Referrals": referrals, "Touches": touches}


def project(folder: Path, port: int) -> Path:
    """A project set up by `partners init`, with the bench workbook and SMTP to `port`."""
    run_init(folder, TODAY)
    write_workbook(folder / "data" / "partners.xlsx", sheet(TODAY))
    config = folder / "config" / "partners.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('backend = "outbox"', 'backend = "smtp"')
    text = text.replace('host = ""', 'host = "127.0.0.1"', 1).replace(
        "port = 587", f"port = {port}"
    )
    text = text.replace('security = "starttls"', 'security = "none"')
    text = text.replace("max_per_minute = 20", "max_per_minute = 0")
    text = text.replace("max_per_run = 100", "max_per_run = 5000")
    text = text.replace("max_per_day = 450", "max_per_day = 100000")
    text = text.replace(
        'form_url = "https://docs.google.com/forms/d/e/EXAMPLE-FORM-ID/viewform"', 'form_url = ""'
    )
    start = text.index("\nreview = [")  # sent as soon as due: the job, not the review
    text = text[:start] + '\nreview = "none"' + text[text.index("\n", start + 1) :]
    config.write_text(text, encoding="utf-8")
    return config


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{args[:4]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    counter = Counter()
    port = free_port()
    server = Controller(counter, hostname="127.0.0.1", port=port)
    server.start()
    job_times: list[float] = []
    floor_times: list[float] = []
    plain_times: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            template = base / "template"
            project(template, port)
            items: list[dict[str, str]] = []
            for n in range(ROUNDS):
                work = base / f"round{n}"
                shutil.copytree(template, work)
                counter.raw.clear()
                job_times.append(
                    timed(
                        [sys.executable, "-m", "automations", "nurture", "--send", "-q"],
                        work,
                    )
                )
                if len(counter.raw) != EMAILS:
                    sys.exit(f"the job sent {len(counter.raw)} emails, expected {EMAILS}")
                if not items:
                    for raw in counter.raw:
                        m = message_from_bytes(raw, policy=policy.default)
                        items.append(
                            {
                                "from": str(m["From"]),
                                "to": str(m["To"]),
                                "subject": str(m["Subject"]),
                                "text": m.get_body(("plain",)).get_content(),  # type: ignore[union-attr]
                                "html": m.get_body(("html",)).get_content(),  # type: ignore[union-attr]
                            }
                        )
                    (base / "messages.json").write_text(json.dumps(items), encoding="utf-8")
                for source, times in ((FLOOR, floor_times), (FLOOR_PLAIN, plain_times)):
                    counter.raw.clear()
                    script = base / "floor.py"
                    script.write_text(source, encoding="utf-8")
                    args = [str(script), "127.0.0.1", str(port), str(base / "messages.json")]
                    times.append(timed([sys.executable, *args], base))
                    if len(counter.raw) != EMAILS:
                        sys.exit(f"a floor sent {len(counter.raw)} emails, expected {EMAILS}")
    finally:
        server.stop()
    job, floor = statistics.median(job_times), statistics.median(floor_times)
    print(f"emails per run:                 {EMAILS}")
    print(
        f"partners nurture --send (job):  {job:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in job_times)})"
    )
    print(
        f"bare smtplib script (floor):    {floor:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in floor_times)})"
    )
    plain = statistics.median(plain_times)
    print(
        f"plain one-part loop (floor 2):  {plain:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in plain_times)})"
    )
    print(f"ratio job / floor:              {job / floor:.2f}  (target <= 1.2)")
    print(f"ratio job / plain loop:         {job / plain:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
