"""Standards-correct messages: headers, Message-ID from the idempotency keys, text + HTML."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from email import policy, quoprimime
from email.errors import HeaderParseError
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from typing import Any

from automations.core.mail.draft import Draft
from automations.core.mail.letterhead import Sender
from automations.core.render import Rendered
from automations.core.vocabulary import Kind
from automations.errors import HeaderProblem


class _Registry(HeaderRegistry):
    """The standard header registry, but each header class is made once, not per header
    (the standard one builds a new class on every lookup: a third of building a message)."""

    @lru_cache(maxsize=128)  # noqa: B019 (one registry lives as long as the process)
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)


# 7bit: every body is quoted-printable or base64, so any server accepts it as is.
STRICT = policy.SMTP.clone(cte_type="7bit", raise_on_defect=True, header_factory=_Registry())
# For an address with non-ASCII before the @ (`léna@...`): headers go as UTF-8 (SMTPUTF8).
STRICT_UTF8 = STRICT.clone(utf8=True)
# C0 and C1 control characters but tab: none of them may reach a header.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# Header lines longer than this are refused by servers (RFC 5322 allows 998 octets).
_LONGEST_LINE = 900


class _Prefolded(str):
    """A header value with its folded line, both made once: the generator writes the line
    as it is and a lookup returns the value unparsed (the standard header objects parse on
    every lookup and fold on every write: most of the time spent making a message)."""

    name: str
    line: str

    def __new__(cls, name: str, value: str, line: str = "") -> _Prefolded:
        made = super().__new__(cls, value)
        made.name = name
        made.line = line or STRICT.header_factory(name, value).fold(policy=STRICT)
        return made

    def fold(self, *, policy: Any) -> str:
        """The header line as the standard folding made it."""
        return self.line


def _multipart(subtype: str, boundary: str) -> _Prefolded:
    """`Content-Type: multipart/…` with its boundary, folded as the standard library does."""
    value = f'multipart/{subtype}; boundary="{boundary}"'
    line = f'Content-Type: multipart/{subtype};{STRICT.linesep} boundary="{boundary}"'
    return _Prefolded("Content-Type", value, line + STRICT.linesep)


_CONSTANT = {
    "MIME-Version": _Prefolded("MIME-Version", "1.0"),
    "plain": _Prefolded("Content-Type", 'text/plain; charset="utf-8"'),
    "html": _Prefolded("Content-Type", 'text/html; charset="utf-8"'),
    "quoted-printable": _Prefolded("Content-Transfer-Encoding", "quoted-printable"),
}


def message_id(keys: tuple[str, ...], sender_email: str) -> str:
    """`<hash of the sorted keys@sender's domain>`: the same keys always give the same id."""
    digest = hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:32]
    domain = sender_email.rpartition("@")[2] or "localhost"
    return f"<pa.{digest}@{domain}>"


def _single_line(what: str, value: str) -> str:
    bad = _CONTROL.search(value)
    if bad is None:
        return value
    if bad.group() in "\r\n":
        raise HeaderProblem(f"{what} contains a line break, which cannot go into an email header")
    raise HeaderProblem(
        f"{what} contains the control character U+{ord(bad.group()):04X}, which cannot go into "
        "an email header (retype the cell)"
    )


@lru_cache(maxsize=4096)
def wire_email(email: str) -> str:
    """The address as it travels: a non-ASCII domain in its ASCII (IDNA) form, so
    `user@bücher.example` needs nothing special from the server; a non-ASCII part before
    the @ stays as it is (it needs SMTPUTF8, see `needs_smtputf8`)."""
    local, _, domain = email.rpartition("@")
    if domain.isascii():
        return email
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email


@lru_cache(maxsize=4096)
def comparable_email(email: str) -> str:
    """One form per mailbox, for telling two spellings of it apart (EMAIL.md, copies):
    lower-cased, the domain's IDNA (`xn--`) labels decoded, so `anna@xn--bcher-kva.example`
    and `Anna@bücher.example` are one person."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or not domain.isascii() or "xn--" not in domain:
        return email.strip().lower()
    try:
        return f"{local}@{domain.encode('ascii').decode('idna').lower()}"
    except UnicodeError:  # not a valid IDNA label: compared as written
        return f"{local}@{domain}"


def needs_smtputf8(*addresses: str) -> bool:
    """Whether a message between these addresses can only travel with SMTPUTF8."""
    return not all(wire_email(a).isascii() for a in addresses)


def _address(what: str, name: str, email: str) -> Address:
    _single_line(what, name)
    _single_line(what, email)
    local, _, domain = wire_email(email).rpartition("@")
    try:
        # Tabs and runs of spaces read as one space in every mail program anyway.
        return Address(display_name=" ".join(name.split()), username=local, domain=domain)
    except (ValueError, HeaderParseError) as exc:
        raise HeaderProblem(f"{what} cannot be written as an address: {exc}") from exc


def encoded_words(text: str) -> str:
    """RFC 2047 words of at most 42 bytes each, spaces kept inside them.

    The standard generator folds long non-ASCII headers at a space and drops that
    space ("Zoë Ñúñez" could arrive as "ZoëÑúñez"); words made here fold between
    words, where decoders ignore the fold.
    """
    chunks: list[str] = []
    chunk = ""
    for ch in text:
        if len((chunk + ch).encode("utf-8")) > 42:
            chunks.append(chunk)
            chunk = ""
        chunk += ch
    chunks.append(chunk)
    words = [f"=?utf-8?b?{base64.b64encode(c.encode('utf-8')).decode('ascii')}?=" for c in chunks]
    return "\r\n ".join(words)


@lru_cache(maxsize=1024)
def _wire_address(what: str, name: str, email: str) -> str:
    """`Name <email>` as it goes on the wire (checked as an Address first)."""
    checked = _address(what, name, email)
    plain = str(checked)
    if checked.display_name.isascii() and len(plain) < _LONGEST_LINE:
        return plain
    # Encoded words fold between words, so even a 5,000-character name fits the line limit.
    return f"{encoded_words(checked.display_name)} <{checked.addr_spec}>"


def _folded(header: Any) -> str:
    """A parsed header as the raw value the generator writes as it is: folded once here,
    not again for every message."""
    text: str = header.fold(policy=STRICT)
    return text[len(header.name) + 2 :].removesuffix(STRICT.linesep)


@lru_cache(maxsize=16)
def _fixed_headers(reply_to: str, mailto: str, url: str) -> dict[str, str]:
    """Headers that are the same on every message of a run, parsed and folded once (the
    slow part of building a message)."""
    make = STRICT.header_factory
    headers = {"Auto-Submitted": "auto-generated"}
    if reply_to:
        headers["Reply-To"] = _folded(make("Reply-To", str(_address("reply_to", "", reply_to))))
    links = [f"<{mailto}>"]
    if url:
        links.append(f"<{_single_line('unsubscribe_url', url)}>")
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    headers["List-Unsubscribe"] = _folded(make("List-Unsubscribe", ", ".join(links)))
    return headers


def _set(msg: EmailMessage, name: str, value: str) -> None:
    """A header whose value needs no parsing (plain ASCII, no encoded-word look-alike) goes
    in as it is, the rest through the policy's parser; both come out the same."""
    if value.isascii() and "=?" not in value:
        msg.set_raw(name, value)
    else:
        msg[name] = value


def _copies(draft: Draft) -> str:
    """The Cc header's value: each copy as `Name <email>`, checked like the To."""
    return ",\r\n ".join(
        _wire_address(f"the Cc address {email}", name, email) for name, email in draft.cc
    )


def subject_of(draft: Draft, rendered: Rendered) -> str:
    """The Subject: a campaign override, `Re:` on a follow-up, else the template's."""
    subject = draft.subject or rendered.subject
    if draft.kind == Kind.FOLLOW_UP and draft.thread_subject:
        original = draft.thread_subject
        subject = original if original.lower().startswith("re:") else f"Re: {original}"
    return subject


def check_headers(
    draft: Draft, rendered: Rendered, sender: Sender, unsubscribe: dict[str, str]
) -> None:
    """Raise HeaderProblem if any header of the message could not be written (cheap)."""
    _fixed_headers(sender.reply_to, unsubscribe["mailto"], unsubscribe.get("url", ""))
    _wire_address("the sender name", sender.name, sender.email)
    _address(f"the name or email of {draft.to_email}", draft.to_name, draft.to_email)
    _single_line("the subject", subject_of(draft, rendered))
    _single_line("the thread", draft.thread_message_id)
    _copies(draft)


def build_message(
    draft: Draft,
    rendered: Rendered,
    sender: Sender,
    unsubscribe: dict[str, str],
    now: dt.datetime,
) -> EmailMessage:
    """The message as it is sent; raise HeaderProblem when a value cannot go in a header."""
    utf8 = needs_smtputf8(sender.email, draft.to_email, *(email for _, email in draft.cc))
    msg = EmailMessage(policy=STRICT_UTF8 if utf8 else STRICT)
    try:
        fixed = _fixed_headers(sender.reply_to, unsubscribe["mailto"], unsubscribe.get("url", ""))
        msg.set_raw("From", _wire_address("the sender name", sender.name, sender.email))
        msg.set_raw(
            "To",
            _wire_address(f"the name or email of {draft.to_email}", draft.to_name, draft.to_email),
        )
        if draft.cc:
            msg.set_raw("Cc", _copies(draft))
        if "Reply-To" in fixed:
            msg.set_raw("Reply-To", fixed["Reply-To"])
        subject = _single_line("the subject", subject_of(draft, rendered))
        if subject.isascii() and len(subject) < _LONGEST_LINE:
            _set(msg, "Subject", subject)
        else:
            msg.set_raw("Subject", encoded_words(subject))
        msg.set_raw("Date", format_datetime(now))
        ident = draft.message_id or message_id(draft.keys, sender.email)
        _set(msg, "Message-ID", ident)
        if draft.kind == Kind.FOLLOW_UP and draft.thread_message_id:
            _set(msg, "In-Reply-To", _single_line("the thread", draft.thread_message_id))
            _set(msg, "References", draft.thread_message_id)
        if draft.internal:
            msg.set_raw("Auto-Submitted", fixed["Auto-Submitted"])
        else:
            msg.set_raw("List-Unsubscribe", fixed["List-Unsubscribe"])
            if "List-Unsubscribe-Post" in fixed:
                msg.set_raw("List-Unsubscribe-Post", fixed["List-Unsubscribe-Post"])
    except (ValueError, HeaderParseError) as exc:
        raise HeaderProblem(str(exc)) from exc
    # What set_content/add_alternative would make, with the constant headers parsed once.
    # "=_" never occurs in quoted-printable text, so the boundary is safe as it is.
    msg["MIME-Version"] = _CONSTANT["MIME-Version"]
    msg["Content-Type"] = _multipart("alternative", f"=_{ident[1:].split('@')[0]}")
    html = _part("html", rendered.html)
    if draft.inline:  # the HTML and its images travel together (multipart/related)
        related = EmailMessage(policy=STRICT)
        related["Content-Type"] = _multipart("related", f"=_r{ident[1:].split('@')[0]}")
        images = []
        for cid, png in draft.inline:
            image = EmailMessage(policy=STRICT)
            image.set_content(
                png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline"
            )
            images.append(image)
        related.set_payload([html, *images])
        html = related
    msg.set_payload([_part("plain", rendered.text), html])
    return msg


def _part(subtype: str, text: str) -> EmailMessage:
    part = EmailMessage(policy=STRICT)
    part["Content-Type"] = _CONSTANT[subtype]
    part["Content-Transfer-Encoding"] = _CONSTANT["quoted-printable"]
    # As the standard content manager does: UTF-8 bytes, quoted-printable per byte.
    body = ("\n".join(text.splitlines()) + "\n").encode("utf-8").decode("latin-1")
    part.set_payload(quoprimime.body_encode(body, maxlinelen=76))
    return part
