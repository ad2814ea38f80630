"""The bounces real mail servers send (flufl.bounce's public test data), read through
`partners replies` on a real IMAP server (pymap on 127.0.0.1): EMAIL.md, Replies and bounces."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest
from openpyxl import load_workbook

from automations.cli import main
from automations.core.messages import message_id
from automations.demo.workbook import SENDER
from tests.conftest import ImapServer, set_keys, use_imap
from tests.imap_messages import dsn
from tests.projects import SheetProject

CORPUS = Path(__file__).parent / "data" / "flufl.bounce"
PRIYA = "priya@stackwise.example"  # the sample's prospect, emailed before
OUTREACH_ID = message_id((f"campaign:platforms-2026:{PRIYA}",), SENDER)
CRM = "log@crm.example"  # the [mail] bcc copy


def expected() -> list[tuple[str, str, list[str]]]:
    """(file, permanent or temporary, failed addresses), as flufl.bounce's own tests say."""
    rows = []
    for line in (CORPUS / "expected.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, verdict, failed = line.split("\t")
            rows.append((name, verdict, [a.lower() for a in failed.split()]))
    return rows


def add_partners(project: SheetProject, emails: list[str]) -> None:
    """Rows in the Partners tab for these addresses, like the sample's first partner."""
    path = project / "data" / "partners.xlsx"
    book = load_workbook(path)
    sheet = book["Partners"]
    model = [c.value for c in sheet[2]]
    for n, email in enumerate(emails):
        sheet.append([f"Partner {n}", email, f"Company {n}", *model[3:]])
    book.save(path)


def uidnext(server: ImapServer) -> int:
    """The UID the INBOX gives its next message."""
    import imaplib

    conn = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
    try:
        server.login(conn)
        _, data = conn.status("INBOX", "(UIDNEXT)")
        return int(str(data[0]).split("UIDNEXT")[1].strip(" )'"))
    finally:
        conn.logout()


def test_the_public_bounces_block_exactly_the_partners_whose_address_failed(
    tmp_path: Path,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    corpus = expected()
    permanent = [c for c in corpus if c[1] == "permanent"]
    assert len(permanent) == 100
    failed = sorted({a for _, _, addrs in corpus for a in addrs})
    project = SheetProject(tmp_path)
    add_partners(project, failed)
    config = project / "config" / "partners.toml"
    set_keys(config, "mail", bcc=[CRM])
    use_imap(project, imap_server, monkeypatch)
    first = uidnext(imap_server)  # pymap's INBOX holds demo messages already
    copy_bounce = dsn(CRM, "5.1.1", OUTREACH_ID, ident="<crm-bounce@mx.example>")
    imap_server.append_all([*((CORPUS / name).read_bytes() for name, _, _ in corpus), copy_bounce])
    code = main(["replies", "--config", str(config)])
    _, err = capsys.readouterr()
    assert code == 0, err

    log = [r for r in project.log_rows() if r["run_id"] != "history"]
    bounced = {(r["key"].split(" ")[0], r["partner_email"]) for r in log if r["status"] == "bounce"}
    right = 0
    for uid, (name, verdict, addresses) in enumerate(corpus, start=first):
        own = str(message_from_bytes((CORPUS / name).read_bytes()).get("Message-ID", "")).strip()
        mine = {p for key, p in bounced if key == own or key.endswith(f":{uid}")}
        if verdict == "permanent":
            right += mine == set(addresses)
        else:
            assert not mine, f"{name}: a delay (4.x.x) blocked {mine}"
    print(f"bounce corpus: {right} of 100 permanent bounces recorded for the right partner")
    assert right >= 95, f"only {right} of 100 permanent bounces recorded for the right partner"
    assert {p for _, p in bounced} <= set(failed)
    assert not [r for r in log if r["status"] == "reply"]  # a delivery report is never a reply

    # The copy's bounce blocks nobody and names the key to fix.
    assert PRIYA not in {p for _, p in bounced}
    assert f"partners: the copy to {CRM} bounced" in err and "[mail] bcc" in err
    assert main(["health", "--config", str(config)]) == 0
    assert project.health()[PRIYA]["action"] != "blocked"
    temporary_only = {a for _, v, addrs in corpus if v == "temporary" for a in addrs} - {
        a for _, v, addrs in permanent for a in addrs
    }
    health = project.health()
    assert temporary_only and all(health[a]["action"] != "blocked" for a in temporary_only)
    blocked = [a for _, _, addrs in permanent for a in addrs if health[a]["action"] == "blocked"]
    addresses = [a for _, _, addrs in permanent for a in addrs]
    print(f"bounce corpus: {len(blocked)} of {len(addresses)} permanently failed addresses blocked")
    assert len(blocked) >= 95
