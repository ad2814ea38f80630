"""Delivery failures as the mail servers write them (flufl.bounce: qmail, Exim, Postfix,
Sendmail, Exchange, Yahoo, GroupWise, AOL, SMTP32 and RFC 3464 reports)."""

from __future__ import annotations

import logging
from email import message_from_bytes

from automations.core.replies import Failures


def failures(raw: bytes) -> Failures:
    """The addresses a bounce says failed, for good or for now (EMAIL.md, Replies and
    bounces); none for anything that is not a bounce or cannot be read."""
    from flufl.bounce import all_failures  # read on the first message only: the CLI starts fast

    # Its detectors log each message they try; that is not for the person running us.
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    try:
        temporary, permanent = all_failures(message_from_bytes(raw))
    except Exception:  # a detector trips on a malformed message: then it read nothing
        return Failures()
    return Failures(_addresses(permanent), _addresses(temporary))


def _addresses(found: frozenset[bytes] | set[bytes]) -> frozenset[str]:
    out = set()
    for item in found:
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        text = text.strip().strip("<>").strip().lower()
        if "@" in text:
            out.add(text)
    return frozenset(out)
