"""Does a reply ask us to stop? Read the sender's own words only (EMAIL.md, "Replies and
bounces": quoted text and signatures stripped), in the languages the out-of-office check
knows. A sentence that merely mentions the word ("no, don't unsubscribe me") is not one.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage

# Where the quoted earlier message starts, in the mail programs and languages we read.
_QUOTE_STARTS = re.compile(
    r"^(?:on .{3,200} wrote:|am .{3,200} schrieb .{0,80}:|le .{3,200} a écrit\s?:|"
    r"el .{3,200} escribió:|em .{3,200} escreveu:|il .{3,200} ha scritto:|"
    r"op .{3,200} schreef .{0,80}:|den .{3,200} skrev .{0,80}:|"
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|mensagem original|messaggio originale|oorspronkelijk bericht)"
    r"\s*-{2,}|(?:from|von|de|da|van|från)\s?:\s.+|_{10,})$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(
    r"^(?:-- ?|—|sent from my .+|envoyé de mon .+|von meinem .+ gesendet)$", re.I
)

# Phrases that ask to stop, each as a regular expression over lower-case words.
_ASKS = [
    r"\bunsubscribe( me)?\b",
    r"\bremove me\b",
    r"\btake me off\b",
    r"\bopt (me )?out\b",
    r"\bno more (e-?mails?|messages)\b",
    r"\bstop (e-?mailing|sending|writing|contacting)( me)?\b",
    r"\bdon'?t (e-?mail|contact|write to) me\b",
    r"\b(bitte )?(abmelden|austragen)\b",
    r"\bkeine (e-?mails?|nachrichten|mails?) mehr\b",
    r"\b(me )?d[ée]sabonner\b",
    r"\b(me )?d[ée]sinscrire\b",
    r"\bplus d'?(e-?mails?|messages)\b",
    r"\bretirez-moi\b",
    r"\bdar(me)? de baja\b",
    r"\bno m[áa]s (correos|e-?mails?|mensajes)\b",
    r"\bcancelar (la )?suscripci[óo]n\b",
    r"\bdescadastr(ar|e-me)\b",
    r"\bn[ãa]o quero mais (e-?mails?|mensagens)\b",
    r"\bdisiscriv(ere|etemi)\b",
    r"\bcancellami\b",
    r"\bbasta (e-?mail|email)\b",
    r"\b(afmelden|uitschrijven)\b",
    r"\bgeen (e-?mails?|berichten) meer\b",
    r"\b(avregistrera|avsluta prenumerationen?)\b",
    r"\binga (fler )?(mejl|e-?post|mail)\b",
]
_ASK = re.compile("|".join(f"(?:{a})" for a in _ASKS))
# A word that, just before the phrase, turns it around: "don't unsubscribe me".
_NEGATED = re.compile(
    r"\b(don'?t|do not|not|never|no need to|nicht|pas|ne|no|não|non|niet|inte)\W+(\w+\W+)?$"
)
# One-word answers that mean stop when they are the whole reply.
_WHOLE = {"stop", "unsubscribe", "remove", "stopp", "arrêter", "arrêtez", "basta", "pare"}


# HTML that holds the quoted earlier message (Gmail, Apple Mail, Thunderbird, Outlook).
_HTML_QUOTE = re.compile(
    r"<blockquote\b.*</blockquote\s*>|<div[^>]*(?:gmail_quote|divRplyFwdMsg|moz-cite-prefix)"
    r"[^>]*>.*",
    re.IGNORECASE | re.DOTALL,
)
# Tags that end a line; the others (a link, bold) sit inside one.
_HTML_BREAK = re.compile(r"<(?:br|/?(?:p|div|tr|li|h\d|table|ul|ol))\b[^>]*>", re.IGNORECASE)


def html_text(markup: str) -> str:
    """An HTML body as its lines of text, the quoted earlier message left out: a rule
    (Outlook's line above "From:/Sent:") reads as a quote start."""
    markup = re.sub(r"(?is)<(style|script|head)\b.*?</\1\s*>", "", markup)
    markup = _HTML_QUOTE.sub("\n", markup)
    markup = re.sub(r"(?i)<hr\b[^>]*>", "\n" + "_" * 10 + "\n", markup)
    markup = _HTML_BREAK.sub("\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup)).replace("\xa0", " ")


def own_lines(msg: EmailMessage) -> list[str]:
    """The reply's own lines: the plain part (else the HTML as text), up to the quoted
    earlier message or the signature, without `>` quote lines; blank lines dropped."""
    try:
        body = msg.get_body(("plain", "html"))
        text = body.get_content() if body is not None else ""
        if body is not None and body.get_content_type() == "text/html":
            text = html_text(str(text))
    except (KeyError, LookupError, ValueError, AttributeError):
        return []
    kept: list[str] = []
    for line in str(text).splitlines():
        stripped = " ".join(line.split())
        if _QUOTE_STARTS.match(stripped) or _SIGNATURE.match(stripped):
            break
        if kept and _QUOTE_STARTS.match(f"{kept[-1]} {stripped}"):  # a header wrapped in two
            kept.pop()
            break
        if stripped and not stripped.startswith(">"):
            kept.append(stripped)
    return kept


def own_words(msg: EmailMessage) -> str:
    """The reply's own text on one line (see `own_lines`)."""
    return " ".join(own_lines(msg))


def asks_to_stop(words: str) -> bool:
    """Whether these words (a reply's own) ask not to be emailed again."""
    text = words.lower().replace("’", "'")
    bare = re.sub(r"[^\w' -]+", " ", text).split()
    if bare and len(bare) <= 3 and bare[0] in _WHOLE:
        return True
    for match in _ASK.finditer(text):
        if not _NEGATED.search(text[max(0, match.start() - 30) : match.start()]):
            return True
    return False
