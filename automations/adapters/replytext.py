"""The quote stripper: where a reply's own words end and the quoted earlier message
begins (EMAIL.md, "Replies and bounces"). The only importer of mail-parser-reply.
"""

from __future__ import annotations

from mailparser_reply import EmailReplyParser

# The languages whose quote headers ("Den 30. nov. 2026 skrev …:", "W dniu … napisał:")
# the partners' mail programs write; English is always included.
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "da", "pl", "cs"]
_PARSER = EmailReplyParser(languages=LANGUAGES)


def before_quote(text: str) -> str:
    """The text above the first quoted earlier message, signatures kept (a stop request
    written after "Thanks," must not be lost to a signature guess); never raises."""
    try:
        replies = _PARSER.read(text).replies
    except Exception:  # a library error on odd text: the text as it is, never a lost reply
        return text
    return replies[0].full_body if replies else text
