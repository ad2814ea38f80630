"""Does a reply ask us to stop? Read the sender's own words only (EMAIL.md, "Replies and
bounces": quoted text and signatures stripped, an answer written under the quote kept), in
the languages of optout_phrases. A sentence that merely mentions the word ("no, don't
unsubscribe me") is not one, and neither is our own footer quoted back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from html.parser import HTMLParser

from automations.core.optout_phrases import (
    AFTER,
    AFTER_WINDOW,
    FOOTERS,
    NEGATION_WINDOW,
    NEGATIONS,
    PHRASES,
    WHOLE,
)

# A well-kept quote stripper from an adapter: the text before the quoted earlier message.
Cut = Callable[[str], str]

# The line that starts the quoted earlier message: "On … wrote:" in the languages we read
# (one line, or two when a mail program wrapped it), an Outlook header block (`*From:*`
# when an HTML reply was made text), or a separator line.
_WROTE = (
    r"wrote|schrieb|a écrit|escribió|escreveu|ha scritto|schreef|skrev|pisze|napisał\(a\)|"
    r"napisał|napisała|napsal\(a\)|kirjoitti"
)
_HEADER_LINE = re.compile(
    rf"^[>\s]*(?:.{{0,240}}\b(?:{_WROTE})\s?(?:.{{0,80}})?:|"
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|mensagem original|messaggio originale|oorspronkelijk bericht|"
    r"originalmeddelande|oprindelig meddelelse|opprinnelig melding|wiadomość oryginalna|"
    r"forwarded message|weitergeleitete nachricht)\s*-{2,}|"
    r"\*?(?:from|von|de|da|van|från|fra|od|lähettäjä)\s?:\*?\s.+|_{10,})\s*$",
    re.IGNORECASE,
)
_WRAPPED = re.compile(r"^(?:on|am|le|el|em|il|op|den|w dniu|dnia|dne|på)\s", re.IGNORECASE)
_CUT_HEADER = re.compile(r"<\s*$|\b\d{1,2}:\d{2}\b")
_SIGNATURE = re.compile(
    r"^(?:-- ?|—|sent from my .+|sent from outlook.*|get outlook for .+|envoyé de mon .+|"
    r"von meinem .+ gesendet|enviado desde mi .+|inviato da .+|verzonden vanaf .+|"
    r"skickat från .+)$",
    re.IGNORECASE,
)


class _Text(HTMLParser):
    """HTML made text: block elements become lines, a `blockquote` becomes `>` lines."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "hr", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.depth = 0  # blockquotes we are in
        self.skip = 0  # inside <style>, <script>, <head>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        elif tag == "blockquote":
            self.depth += 1
            self.lines.append("")
        elif tag in self._BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.depth = max(0, self.depth - 1)
            self.lines.append("")
        elif tag in self._BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = " ".join(data.split())
        if not text:
            return
        if not self.lines[-1]:
            self.lines[-1] = "> " * self.depth
        self.lines[-1] += (" " if self.lines[-1].strip() else "") + text


def html_text(markup: str) -> str:
    """The text of an HTML body, quoted parts as `>` lines (EMAIL.md)."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "\n".join(line for line in parser.lines if line.strip())


def body_text(msg: EmailMessage) -> str:
    """The message's text: the plain part, else the HTML made text; "" when unreadable."""
    try:
        body = msg.get_body(("plain", "html"))
        text = str(body.get_content()) if body is not None else ""
        if body is not None and body.get_content_type() == "text/html":
            text = html_text(text)
    except (KeyError, LookupError, ValueError, AttributeError, AssertionError):
        return ""
    return text


def _quote_start(lines: list[str]) -> int:
    """The index of the first line of the quoted earlier message (len(lines) if none)."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">") or _HEADER_LINE.match(stripped):
            return i
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if (  # "On Mon, 30 Nov 2026 at 09:00, Alex <" / "alex@example.com> wrote:"
            _WRAPPED.match(stripped)
            and following
            # the wrapped half may read as a header itself ("alex@x> wrote:"): a line cut
            # after the sender's `<` or after a time of day is the header's first half
            and (not _HEADER_LINE.match(following) or _CUT_HEADER.search(stripped))
            and _HEADER_LINE.match(f"{stripped} {following}")
        ):
            return i
    return len(lines)


def _unsigned(lines: list[str]) -> list[str]:
    """The lines before a signature line ("-- ", "Sent from my iPhone")."""
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line.strip()):
            return lines[:i]
    return lines


def own_text(text: str, cut: Cut | None = None) -> str:
    """A reply's own words from its text: above the quoted earlier message (and, with `cut`,
    above what that stripper finds too), plus what was written under or between `>` quotes."""
    lines = text.replace("\r\n", "\n").replace("\xa0", " ").split("\n")
    start = _quote_start(lines)
    top = "\n".join(_unsigned(lines[:start]))
    if cut is not None and top.strip():
        top = cut(top)
    rest = lines[start:]
    first = next((i for i, ln in enumerate(rest) if ln.lstrip().startswith(">")), None)
    below = ""
    if first is not None:  # a `>`-quoted reply: what is not quoted after it is theirs too
        after = [ln for ln in rest[first:] if not ln.lstrip().startswith(">")]
        if any(ln.strip() for ln in after):
            below = own_text("\n".join(after), cut)
    return " ".join(f"{top}\n{below}".split())


def own_lines(msg: EmailMessage) -> list[str]:
    """The reply's own lines, for a grammar read line by line (a reply to the review email,
    EMAIL.md): above the quoted earlier message and the signature, without `>` lines or
    blank ones; nothing below the quote decides there."""
    lines = body_text(msg).replace("\r\n", "\n").replace("\xa0", " ").split("\n")
    top = _unsigned(lines[: _quote_start(lines)])
    return [" ".join(ln.split()) for ln in top if ln.strip() and not ln.lstrip().startswith(">")]


def own_words(msg: EmailMessage, cut: Cut | None = None) -> str:
    """The reply's own text (EMAIL.md): the plain part, else the HTML made text, without the
    quoted earlier message, `>` quote lines and the signature; `cut` is a quote stripper."""
    return own_text(body_text(msg), cut)


def _clause_before(text: str, at: int) -> list[str]:
    """The words of the same clause just before position `at`."""
    clause = re.split(r"[,.;:!?()\n]", text[:at])[-1]
    return clause.split()


def _negated(text: str, start: int, end: int) -> bool:
    """Whether a negation turns the phrase at text[start:end] around."""
    before = " ".join(_clause_before(text, start)[-NEGATION_WINDOW:])
    after = " ".join(re.split(r"[,.;:!?()\n]", text[end:])[0].split()[:AFTER_WINDOW])
    for language, words in NEGATIONS.items():
        if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", before) for w in words):
            return True
        if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", after) for w in AFTER.get(language, ())):
            return True
    return False


_PHRASE = re.compile("|".join(f"(?:{p})" for ps in PHRASES.values() for p in ps))


def _without_footers(text: str) -> str:
    """The text without our own footer sentences, quoted back without a `>`."""
    for footer in FOOTERS:
        text = text.replace(footer, " ")
    return text


def asks_to_stop(words: str) -> bool:
    """Whether these words (a reply's own) ask not to be emailed again (EMAIL.md)."""
    text = " ".join(words.lower().replace("’", "'").replace("“", '"').replace("”", '"').split())
    text = _without_footers(text)
    bare = re.sub(r"[^\w' -]+", " ", text).split()
    if bare and len(bare) <= 3 and bare[0] in WHOLE:
        return True
    return any(not _negated(text, m.start(), m.end()) for m in _PHRASE.finditer(text))
