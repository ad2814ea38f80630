"""What the owner reads: the digest and an escalation for the demo sheet (issue 13), parsed
as a mail program and a browser would."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from automations.cli import main
from tests.projects import SheetProject
from tests.spam_filter import SPAM_CEILING, needs_spamassassin, spam_scores

OWNER = "alex@rivera-consulting.example"


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> SheetProject:
    """The demo project after `nurture --send` and `digest --send` (outbox); read only."""
    project = SheetProject(tmp_path_factory.mktemp("owner-mail"))
    config = str(project / "config" / "partners.toml")
    assert main(["nurture", "--send", "--quiet", "--config", config]) == 0
    assert main(["digest", "--send", "--quiet", "--config", config]) == 0
    return project


def message_path(project: SheetProject, kind: str) -> Path:
    (path,) = (project / "outbox").glob(f"{kind}-{OWNER}-*.eml")
    return path


def message(project: SheetProject, kind: str) -> EmailMessage:
    msg = message_from_bytes(message_path(project, kind).read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


class _Html(HTMLParser):
    """Lines of text outside list items, list items, and the images with their sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.loose: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self._in_li = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self._in_li += 1
            self.items.append("")
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self._in_li -= 1

    def handle_data(self, data: str) -> None:
        if self._in_li:
            self.items[-1] += data
        else:
            self.loose.extend(line.strip() for line in data.splitlines() if line.strip())


def read_html(html: str) -> _Html:
    parser = _Html()
    parser.feed(html)
    return parser


def test_the_digest_reads_as_lists_and_words_with_amounts_in_a_currency(
    sent: SheetProject,
) -> None:
    msg = message(sent, "digest")
    text, html = parts(msg)
    page = read_html(html)
    assert "<ul>" in html and len(page.items) >= 10
    assert not [line for line in page.loose if line.startswith("- ")]  # no literal bullets
    assert not re.search(r"\d{4}-W\d\d", str(msg["Subject"]) + text + html)
    assert re.match(r"Your partners, week of \d{1,2} [A-Z][a-z]+$", str(msg["Subject"]))
    owed = text.split("Referral fees you owe", 1)[1].split("Your strongest partners")[0]
    amounts = re.findall(r"\S*\d[\d,.]*", owed.split("in all:", 1)[1])
    assert re.match(r", \$[\d,]+ in all:", owed)
    assert amounts and all(a.startswith("$") for a in amounts)  # a currency on every amount
    section = text.split("Coming up in the next 7 days:", 1)[1].strip().split("\r\n\r\n")[0]
    coming = [line[2:] for line in section.splitlines() if line.startswith("- ")]
    words = ("check-in with", "thank-you to", "survey to", "follow-up to", "outcome note to")
    assert coming and all(i.startswith(words) for i in coming)  # each names its action
    assert all(re.search(r" (today|tomorrow|on \d{1,2} [A-Z][a-z]+)\b", i) for i in coming)
    assert all("(last contact " in i for i in coming if i.startswith("check-in with"))
    quarters = re.findall(r"(\w+ to \w+ \d{4}): (\d+) received, (\d+) given", text)
    assert len(quarters) == 4  # the chart's numbers, in the text part too


def test_the_digest_chart_fits_a_phone_at_twice_the_pixels(sent: SheetProject) -> None:
    msg = message(sent, "digest")
    _, html = parts(msg)
    (image,) = read_html(html).images
    assert int(str(image["width"])) <= 600 and "max-width: 100%" in str(image["style"])
    png = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    width, _ = Image.open(io.BytesIO(png.get_content())).size
    assert width >= 2 * int(str(image["width"]))


def test_an_escalation_says_only_what_is_still_true_after_this_runs_thanks(
    sent: SheetProject,
) -> None:
    text, html = parts(message(sent, "escalation"))
    dana = next(line for line in text.splitlines() if "Dana Whitfield" in line)
    assert "not thanked yet" not in text  # the thank-you went in the same run
    assert dana.count("Dana Whitfield") == 1
    assert re.search(r"referral of \d{1,2} [A-Z][a-z]+ \d{4}\) still new after \d+ days", dana)
    assert not re.search(r"\d{4}-\d\d-\d\d", text)  # dates as people write them
    assert "**" not in text
    assert re.search(r"lowest 2 for [a-z]", text)  # which survey item was rated low
    assert "<li>" in html


@pytest.fixture(scope="module")
def owner_scores(sent: SheetProject) -> dict[str, float]:
    """The spam score of the digest and of the escalation."""
    paths = {kind: message_path(sent, kind) for kind in ("digest", "escalation")}
    scores = spam_scores(list(paths.values()))
    return {kind: scores[path] for kind, path in paths.items()}


@needs_spamassassin
@pytest.mark.parametrize("kind", ["digest", "escalation"])
def test_owner_mail_scores_at_most_1_in_spamassassins_local_rules(
    owner_scores: dict[str, float], kind: str
) -> None:
    print(f"SpamAssassin {kind}: {owner_scores[kind]}")
    assert owner_scores[kind] <= SPAM_CEILING


def test_the_digest_lists_a_low_survey_even_after_its_escalation_went(sent: SheetProject) -> None:
    text, _ = parts(message(sent, "digest"))
    assert "Survey ratings to look at:" in text
    assert "- Chloé Dubois: the latest survey averaged 4.1 out of 9" in text


def test_make_demo_on_an_smtp_config_sends_nothing_and_says_why(
    tmp_path: Path, smtp_server: Any
) -> None:
    import sys

    from tests.conftest import use_smtp

    venv = Path(sys.prefix)
    if not (venv / ".installed").exists():
        pytest.skip("not running in the venv `make` made (no .venv/.installed stamp)")
    project = SheetProject(tmp_path)
    use_smtp(project.path, smtp_server)
    root = Path(__file__).parent.parent
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(root / name, tmp_path / name)  # keeps the time: the venv is up to date
    made = subprocess.run(
        ["make", "demo", f"VENV={venv}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert smtp_server.recorder.received == []
    assert "make demo only ever demos" in made.stdout and "sends by SMTP" in made.stdout
