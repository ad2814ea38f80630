"""A partner's own words in a reply, and whether they ask to stop (EMAIL.md, "Replies and
bounces"): public reply fixtures with a footer quoted under them, and a table of opt-out and
not-opt-out sentences in eight languages."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from automations.adapters.replytext import before_quote
from automations.core.optout import asks_to_stop, html_text, own_text
from automations.core.replies import Known, classify
from tests.imap_messages import message

DATA = Path(__file__).parent / "data"
ME = "alex@rivera-consulting.example"
PARTNER = "Maya <maya@goldberg.example>"
KNOWN = Known(
    partners=frozenset({"maya@goldberg.example"}),
    sent_ids={},
    unsubscribe_address=ME,
    cut=before_quote,
)
OUR_FOOTER = "If this isn't for you, reply \"unsubscribe\" and I won't write again."
NEWSLETTER = "You receive this newsletter as a partner. Unsubscribe | Manage your preferences"
STOP = "Please unsubscribe me, no more emails."


def fixtures() -> list[tuple[str, str, bool]]:
    """(name, body, is_html) of every reply fixture with a quote under it."""
    out = []
    for path in sorted((DATA / "talon").glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(("plain", "html"))
        assert body is not None
        out.append((path.name, str(body.get_content()), body.get_content_type() == "text/html"))
    out += [(p.name, p.read_text(), True) for p in sorted((DATA / "talon").glob("*.html"))]
    out += [
        (p.name, p.read_text(), False) for p in sorted((DATA / "mail-parser-reply").glob("*.txt"))
    ]
    return [f for f in out if _quoted(f[1], f[2])]


def _quoted(body: str, is_html: bool) -> bool:
    text = html_text(body) if is_html else body
    return len(own_text(text, before_quote)) < 0.9 * len(" ".join(text.split()))


def _in_quote(body: str, is_html: bool, line: str) -> str:
    """The reply with `line` added at the end of its quoted earlier message."""
    if is_html:
        at = body.lower().rfind("</blockquote>")
        at = at if at >= 0 else max(body.lower().rfind("</body>"), 0) or len(body)
        return f"{body[:at]}<p>{line}</p>{body[at:]}"
    lines = body.replace("\r\n", "\n").split("\n")
    quoted = [i for i, ln in enumerate(lines) if ln.lstrip().startswith(">")]
    if quoted:
        lines.insert(quoted[-1] + 1, f"> {line}")
        return "\n".join(lines)
    return f"{body.rstrip()}\n{line}\n"


def _reply(body: str, is_html: bool) -> bytes:
    msg = EmailMessage()
    msg["From"] = PARTNER
    msg["To"] = ME
    msg["Subject"] = "Re: Checking in"
    msg["Message-ID"] = "<r1@goldberg.example>"
    msg["Date"] = "Fri, 20 Nov 2026 09:30:00 +0000"
    msg.set_content(body, subtype="html" if is_html else "plain")
    return msg.as_bytes()


FIXTURES = fixtures()
RAW_QP = {"begins_with_signature.txt"}  # stored still encoded ("w= rote:")


def test_the_public_fixtures_hold_enough_quoted_replies() -> None:
    assert len(FIXTURES) >= 60


@pytest.mark.parametrize(("name", "body", "is_html"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_a_footer_quoted_under_an_ordinary_answer_is_not_an_unsubscribe(
    name: str, body: str, is_html: bool
) -> None:
    for footer in (OUR_FOOTER, NEWSLETTER):
        verdict = classify(_reply(_in_quote(body, is_html, footer), is_html), KNOWN)
        assert verdict.kind == "reply", (name, footer, verdict.detail)


@pytest.mark.parametrize(("name", "body", "is_html"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_an_opt_out_above_the_quote_is_an_unsubscribe(name: str, body: str, is_html: bool) -> None:
    quoted = _in_quote(body, is_html, NEWSLETTER)
    above = f"<p>{STOP}</p>{quoted}" if is_html else f"{STOP}\n\n{quoted}"
    assert classify(_reply(above, is_html), KNOWN).kind == "unsubscribe", name


@pytest.mark.parametrize(("name", "body", "is_html"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_an_opt_out_below_the_quote_is_an_unsubscribe(name: str, body: str, is_html: bool) -> None:
    if name in RAW_QP:
        pytest.skip("quoted-printable soft breaks left in the file: its quote lines are broken")
    quoted = _in_quote(body, is_html, NEWSLETTER)
    if is_html:
        at = quoted.lower().rfind("</blockquote>")
        if at < 0:
            pytest.skip("no quote block to write under")
        at += len("</blockquote>")
        below = f"{quoted[:at]}<p>{STOP}</p>{quoted[at:]}"
    elif any(ln.lstrip().startswith(">") for ln in quoted.splitlines()):
        lines = quoted.split("\n")  # right under the quote, above a list footer or signature
        last = max(i for i, ln in enumerate(lines) if ln.lstrip().startswith(">"))
        below = "\n".join([*lines[: last + 1], "", STOP, "", *lines[last + 1 :]])
    else:
        pytest.skip("an Outlook-style quote: what is under it is the earlier message")
    assert classify(_reply(below, is_html), KNOWN).kind == "unsubscribe", name
