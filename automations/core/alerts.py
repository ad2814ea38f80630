"""The owner's email when unattended runs keep failing (EMAIL.md, "Copies, windows and
alerts"): what stopped the last run and what to do, at most one a day."""

from __future__ import annotations

import datetime as dt

from automations.core import keys as keyspace
from automations.core.mail.draft import Draft
from automations.core.mail.letterhead import Letterhead, base_context
from automations.core.vocabulary import Kind

# What a person does about the usual reasons a run stops, by words in the run's summary.
_ADVICE = (
    (
        ("login", "sign-in", "sign in", "535", "password", "token", "refused the key"),
        "It looks like a sign-in problem: run 'partners check' to see which, then "
        "'partners login mail' (or imap, sheet) if it says so, or renew the password.",
    ),
    (
        ("cannot connect", "cannot reach", "timed out", "network"),
        "It looks like a server or the network could not be reached: if it lasts, check the "
        "host names in the config and this computer's connection.",
    ),
    (
        ("lock", "another partners run"),
        "Another run was still working: if that lasts, a run may be stuck; 'partners check' "
        "names the process holding the lock.",
    ),
)
_OTHERWISE = "Run 'partners check' on the computer that runs the toolkit: it names the problem."


def advice_for(detail: str) -> str:
    """One sentence on what to do about the reason a run stopped."""
    lower = detail.lower()
    for words, said in _ADVICE:
        if any(w in lower for w in words):
            return said
    return _OTHERWISE


def alert_draft(
    owner: str, failures: int, detail: str, letterhead: Letterhead, now: dt.datetime
) -> Draft:
    """One internal email to `owner`: `failures` runs in a row failed, the last said `detail`."""
    today = now.date()
    name = letterhead.owner_name(owner)
    context = {
        **base_context(letterhead, today),
        "owner": {"email": owner, "name": name},
        "failures": failures,
        "last_run": f"today at {now:%H:%M}",
        "detail": detail,
        "advice": advice_for(detail),
    }
    return Draft(
        kind=Kind.ALERT,
        template=Kind.ALERT,
        to_email=owner,
        to_name=name,
        keys=(keyspace.alert(owner, today),),
        key_partners=(owner,),
        context=context,
        priority=0,
        why=f"{failures} runs in a row failed",
    )
