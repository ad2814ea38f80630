"""What a partner's reply to a referral statement says (EMAIL.md, Statements): it agrees
(`confirmed`), it corrects something (`disputed`, kept in their own words), or it is an
ordinary reply ("" here: a `reply` as any other).

A correction wins over agreement: "looks right, except #2 closed in May" is a dispute, as
the owner must look. Read on the partner's own words only (quote and signature stripped by
the caller), so the statement's own table quoted back never reads as a correction.
"""

from __future__ import annotations

import re
from typing import Literal

from automations.core.vocabulary import Status

AGREES = re.compile(
    r"\b(?:looks?\s+(?:right|good|correct|fine|accurate)|all\s+(?:correct|good|right|fine)|"
    r"(?:that'?s|that\s+is|it'?s|this\s+is|everything'?s|everything\s+is|all\s+is)\s+"
    r"(?:right|correct|accurate|fine|good)|confirm(?:ed)?|correct|accurate|agreed|"
    r"matches|spot\s+on|same\s+(?:here|as\s+mine)|checks\s+out|"
    r"stimmt|passt|c'est\s+(?:bon|correct|juste)|correcto|klopt)\b",
    re.IGNORECASE,
)
# Naming a referral ("#2", "the second one"), an amount, a month or day, or words of a
# correction: any of these means the owner has something to look at.
CORRECTS = re.compile(
    r"#\s*\d+|\bno\.?\s*\d+\b|\b(?:first|second|third|fourth|fifth|last)\s+one\b|"
    r"[$€£¥]\s*\d|\d[\d,.]*\s*(?:%|eur|usd|gbp|chf)\b|"
    r"\b(?:january|february|march|april|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b|"
    r"\b(?:in|on|of|since|until|by)\s+may\b|\bmay\s+\d|\d\s*(?:st|nd|rd|th)?\s+may\b|"
    r"\b\d{1,2}[./-]\d{1,2}\b|"
    r"\b(?:not|n't|never|wrong|incorrect|mistake|missing|forgot|forgotten|actually|instead|"
    r"should\s+be|was\s+(?:won|lost|closed)|closed|isn't|wasn't|didn't|haven't|hasn't|"
    r"except|but|however|discrepanc\w*|differ\w*|doesn't|don't|fehlt|falsch|faux|erreur|"
    r"incorrecto|fout)\b",
    re.IGNORECASE,
)


def statement_answer(words: str) -> Status | Literal[""]:
    """`disputed` when the partner's own words name a referral or a correction,
    `confirmed` when they agree, "" for anything else (an ordinary reply)."""
    text = " ".join(words.split())
    if not text:
        return ""
    if CORRECTS.search(text):
        return Status.DISPUTED
    return Status.CONFIRMED if AGREES.search(text) else ""
