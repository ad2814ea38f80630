"""How the toolkit's own reminders are known in a calendar (CLI.md, `partners calendar`):
the reader leaves them out, so a feed of ours imported back is never a meeting (RULES.md)."""

from __future__ import annotations

import hashlib

# Reserved for documentation (RFC 2606): no real calendar mints UIDs in it. Calendar apps
# keep a UID when an event is imported, while they drop unknown properties and the PRODID.
UID_DOMAIN = "reminders.partner-automations.invalid"
PRODID = "-//partner automations//reminders//EN"
MARK = "X-PARTNER-AUTOMATIONS"


def uid_of(ident: str) -> str:
    """A reminder's UID: its identity (partner and kind, or keys) hashed, in our domain."""
    return f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}@{UID_DOMAIN}"


def is_ours(uid: str, marked: bool) -> bool:
    """True for an event the toolkit wrote: its UID in our domain, or our property on it."""
    return marked or uid.strip().lower().endswith("@" + UID_DOMAIN)
