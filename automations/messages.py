"""Standards-correct messages: headers, Message-ID from the idempotency keys, text + HTML."""

from __future__ import annotations

import datetime as dt
import hashlib
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from automations.compose import Draft
from automations.config import SenderSettings
from automations.render import Rendered

# 7bit: every body is quoted-printable or base64, so any server accepts it as is.
STRICT = policy.SMTP.clone(cte_type="7bit", raise_on_defect=True)


class HeaderProblem(Exception):
    """A value that cannot go into a header (a line break from a sheet cell)."""


def message_id(keys: tuple[str, ...], sender_email: str) -> str:
    """`<hash of the sorted keys@sender's domain>`: the same keys always give the same id."""
    digest = hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:32]
    domain = sender_email.rpartition("@")[2] or "localhost"
    return f"<pa.{digest}@{domain}>"


def _single_line(what: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderProblem(f"{what} contains a line break, which cannot go into an email header")
    return value


def _address(what: str, name: str, email: str) -> Address:
    _single_line(what, name)
    _single_line(what, email)
    local, _, domain = email.partition("@")
    try:
        # Tabs and runs of spaces read as one space in every mail program anyway.
        return Address(display_name=" ".join(name.split()), username=local, domain=domain)
    except (ValueError, HeaderParseError) as exc:
        raise HeaderProblem(f"{what} cannot be written as an address: {exc}") from exc


def subject_of(draft: Draft, rendered: Rendered) -> str:
    """The Subject: a campaign override, `Re:` on a follow-up, else the template's."""
    subject = draft.subject or rendered.subject
    if draft.kind == "follow_up" and draft.thread_subject:
        original = draft.thread_subject
        subject = original if original.lower().startswith("re:") else f"Re: {original}"
    return subject


def build_message(
    draft: Draft,
    rendered: Rendered,
    sender: SenderSettings,
    unsubscribe: dict[str, str],
    now: dt.datetime,
) -> EmailMessage:
    """The message as it is sent; raise HeaderProblem when a value cannot go in a header."""
    msg = EmailMessage(policy=STRICT)
    try:
        msg["From"] = _address("the sender name", sender.name, sender.email)
        msg["To"] = _address(
            f"the name or email of {draft.to_email}", draft.to_name, draft.to_email
        )
        if sender.reply_to:
            msg["Reply-To"] = _address("reply_to", "", sender.reply_to)
        msg["Subject"] = _single_line("the subject", subject_of(draft, rendered))
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = message_id(draft.keys, sender.email)
        if draft.kind == "follow_up" and draft.thread_message_id:
            msg["In-Reply-To"] = _single_line("the thread", draft.thread_message_id)
            msg["References"] = draft.thread_message_id
        if draft.internal:
            msg["Auto-Submitted"] = "auto-generated"
        else:
            links = [f"<{unsubscribe['mailto']}>"]
            if unsubscribe.get("url"):
                links.append(f"<{_single_line('unsubscribe_url', unsubscribe['url'])}>")
                msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            msg["List-Unsubscribe"] = ", ".join(links)
    except (ValueError, HeaderParseError) as exc:
        raise HeaderProblem(str(exc)) from exc
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg
