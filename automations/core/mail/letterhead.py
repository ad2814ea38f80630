"""Who writes and what every email carries besides its own facts: the sender, the survey
form, the opt-out link (EMAIL.md). Built once from the config by the wiring."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Sender:
    """Who the email is from (`[sender]`)."""

    name: str
    email: str
    reply_to: str = ""
    signature: str = ""
    currency: str = "USD"  # how amounts are written ("$1,200"); `[sender] currency`
    pitch: str = ""  # one sentence on what the sender does (the outreach says it)


@dataclass(frozen=True)
class SurveyForm:
    """The survey form and the ids of its pre-filled fields (`[survey]`)."""

    url: str = ""
    email_field: str = ""
    respondent_field: str = ""


@dataclass(frozen=True)
class Letterhead:
    """What every email carries besides its own facts: sender, survey form, opt-out link."""

    sender: Sender
    form: SurveyForm = SurveyForm()
    unsubscribe_url: str = ""  # may hold {email} and {token}
    unsubscribe_secret: str = field(default="", repr=False)  # PARTNERS_UNSUBSCRIBE_SECRET

    @property
    def unsubscribe(self) -> dict[str, str]:
        """The unsubscribe address (no URL: a URL is only ever one recipient's own)."""
        address = self.sender.reply_to or self.sender.email
        return {"address": address, "mailto": f"mailto:{address}?subject=unsubscribe", "url": ""}

    def unsubscribe_for(self, email: str) -> dict[str, str]:
        """The opt-out details of one recipient: the one-click URL only when it identifies
        them (`{email}`, and `{token}` with a secret to sign it; EMAIL.md)."""
        url = self.unsubscribe_url
        if "{email}" not in url or ("{token}" in url and not self.unsubscribe_secret):
            return self.unsubscribe
        token = hmac.new(
            self.unsubscribe_secret.encode(), email.lower().encode(), hashlib.sha256
        ).hexdigest()[:32]
        personal = url.replace("{email}", quote(email.lower(), safe="@")).replace("{token}", token)
        return {**self.unsubscribe, "url": personal}

    def owner_name(self, owner: str) -> str:
        """The sender's name when the owner is the sender, else nothing known."""
        return self.sender.name if owner == self.sender.email.lower() else ""


def base_context(letterhead: Letterhead, today: dt.date) -> dict[str, Any]:
    """What every template sees: sender, today and the unsubscribe details."""
    sender = letterhead.sender
    return {
        "sender": {
            "name": sender.name,
            "email": sender.email,
            "reply_to": sender.reply_to,
            "signature": sender.signature,
            "currency": sender.currency,
            "pitch": sender.pitch,
        },
        "today": today,
        "unsubscribe": letterhead.unsubscribe,
    }


def owner_of(partner: Mapping[str, Any], letterhead: Letterhead) -> dict[str, str]:
    """The partner's owner on our side (the sender when the Owner cell is blank)."""
    email = str(partner.get("owner") or letterhead.sender.email).lower()
    return {"email": email, "name": letterhead.owner_name(email)}
