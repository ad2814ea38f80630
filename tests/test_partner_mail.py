"""What partners receive from the demo: every partner kind as it lands, checked by a spam
filter and by the follow-up's quote of the outreach it follows (issue 12)."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from automations.cli import main
from automations.core.vocabulary import PARTNER_KINDS
from tests.projects import SheetProject
from tests.spam_filter import SPAM_CEILING, needs_spamassassin, spam_scores


@pytest.fixture(scope="module")
def demo_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's outbox after `nurture --send` and the shipped outreach campaign."""
    project = SheetProject(tmp_path_factory.mktemp("partner-mail"))
    config = str(project / "config" / "partners.toml")
    assert main(["nurture", "--send", "--config", config]) == 0
    campaign = str(project / "config" / "campaigns" / "prospects-intro.toml")
    assert main(["campaign", campaign, "--send", "--config", config]) == 0
    return project / "outbox"


@pytest.fixture(scope="module")
def partner_scores(demo_outbox: Path) -> dict[str, float]:
    """The spam score of the first message of each partner kind in the demo's outbox."""
    firsts = {kind: sorted(demo_outbox.glob(f"{kind}-*.eml"))[0] for kind in SCORED_KINDS}
    scores = spam_scores(list(firsts.values()))
    return {kind: scores[path] for kind, path in firsts.items()}


# A statement goes only in a quarter's first weeks: test_statements checks it on a dated demo.
SCORED_KINDS = [k for k in PARTNER_KINDS if k != "statement"]


@needs_spamassassin
@pytest.mark.parametrize("kind", SCORED_KINDS)
def test_every_partner_kind_scores_at_most_1_in_spamassassins_local_rules(
    partner_scores: dict[str, float], kind: str
) -> None:
    print(f"SpamAssassin {kind}: {partner_scores[kind]}")
    assert partner_scores[kind] <= SPAM_CEILING


def test_a_follow_up_quotes_the_first_lines_of_the_outreach_that_was_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path)
    config = str(project / "config" / "partners.toml")
    campaign = str(project / "config" / "campaigns" / "prospects-intro.toml")
    assert main(["campaign", campaign, "--send", "--config", config]) == 0
    (outreach,) = (project / "outbox").glob("outreach-ben@*.eml")
    later = (dt.date.today() + dt.timedelta(days=8)).isoformat()
    assert (
        main(["nurture", "--send", "--only", "follow_up", "--today", later, "--config", config])
        == 0
    )
    capsys.readouterr()
    (follow_up,) = (project / "outbox").glob("follow_up-ben@*.eml")
    first = message_from_bytes(outreach.read_bytes(), policy=policy.default)
    then = message_from_bytes(follow_up.read_bytes(), policy=policy.default)
    text = then.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert then["In-Reply-To"] == first["Message-ID"]
    assert "I wrote to you last" not in text
    assert re.search(r"On \d{1,2} [A-Z][a-z]+, Alex Rivera wrote:", text)
    assert "> I'm Alex Rivera. I set up websites" in text
    assert "> Hi Ben" not in text and "> Best," not in text
