"""The return day an automatic reply names (EMAIL.md, "Replies and bounces"): the day named
as a return ("back on", "zurück am", "jusqu'au", …), else the latest day named; month names
first, an all-numeric day only when one reading alone is a day in the window or the sheet's
date order settles it, never digits inside a phone number; from the day it was sent up to
AWAY_DAYS on.
"""

from __future__ import annotations

import datetime as dt
import re

AWAY_DAYS = 180  # a return day further off than this is not read as one

_MONTH_NAMES = {
    1: "january jan januar jänner janvier janv enero ene janeiro gennaio gen januari",
    2: "february feb februar février févr febrero fevereiro fev febbraio febbr februari",
    3: "march mar märz maerz mars marzo março marco maart",
    4: "april apr avril abril abr aprile",
    5: "may mai mayo maio maggio mag mei maj",
    6: "june jun juni juin junio junho giugno giu",
    7: "july jul juli juillet juil julio julho luglio lug",
    8: "august aug août aout agosto augusti augustus",
    9: "september sep sept septembre septiembre setembro settembre",
    10: "october oct oktober octobre octubre outubro ottobre ott okt",
    11: "november nov novembre noviembre novembro",
    12: "december dec dezember décembre déc diciembre dic dezembro dez dicembre",
}
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th|er|º|°)?\.?"
_YEAR = r"(?:,?\s*(?:de\s+)?(?P<y>20\d\d))?"
_DATES = [
    re.compile(rf"\b{_DAY}\s*(?:de\s+|of\s+)?(?P<m>{_MONTH})\b\.?{_YEAR}", re.I),
    re.compile(rf"\b(?P<m>{_MONTH})\b\.?\s+{_DAY}(?![\d:]){_YEAR}", re.I),
    re.compile(r"\b(?P<y>20\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\b"),
    re.compile(r"\b(?P<d>[0-3]?\d)\.(?P<m>[01]?\d)\.(?P<y>(?:20)?\d\d)?(?![\d:])"),
]
_SLASHED = re.compile(r"\b(?P<a>[01]?\d|[23]\d)/(?P<b>[0-3]?\d)(?:/(?P<y>(?:20)?\d\d))?\b")
# Phone numbers: after a label, after `+`, or long runs of digit groups ("030 12 01 2027").
_PHONES = re.compile(
    r"(?:\b(?:tel|tél|telefon|telephone|téléphone|teléfono|telefone|telefono|phone|mobile|"
    r"mob|mobil|handy|cell|gsm|fax|tlf|móvil|cellulare)\b\.?\s*[:.]?\s*[+\d(][\d\s()./-]{4,}\d)"
    r"|\+\s?\d[\d\s()./-]{5,}\d|\b\d{2,5}(?:[\s./-]\d{2,5}){3,}\b",
    re.IGNORECASE,
)
# Words that name the return, just before the day (in the languages of AUTO_SUBJECTS).
_CUES = re.compile(
    r"\b(?:back(?: in the office| at work| in office)?(?: on)?|return(?:ing)?(?: on)?|"
    r"until|till|through|thru|to|au|al|"
    r"zurück(?: am| ab)?|wieder(?: am| ab| im büro am)?|ab dem|ab|bis(?: zum| einschließlich)?|"
    r"de retour(?: le| au bureau le)?|retour le|jusqu'au|jusqu'à|à partir du|dès le|"
    r"de vuelta(?: el)?|regreso el|regresaré el|volveré el|hasta el|a partir del|"
    r"de volta(?: em| a| no dia)?|volto(?: em| a| no dia)?|retorno(?: em| a| no dia)?|até|"
    r"rientro(?: il| in ufficio il)?|rientrerò(?: il)?|di ritorno(?: il)?|fino al|"
    r"terug(?: op)?|weer aanwezig(?: op)?|tot en met|t/m|tot|vanaf|"
    r"tillbaka(?: den| på)?|åter(?: den| på)?|till och med|t\.o\.m\.?|"
    r"fra og med|tilbage(?: den)?)\b",
    re.IGNORECASE,
)
_CUE_REACH = 45  # characters between a cue and its day (a weekday name fits in between)


def _numeric(a: int, b: int, date_order: str) -> list[tuple[int, int]]:
    """The (day, month) readings of `a/b`: the sheet's order settles two."""
    as_dmy = (a, b) if 1 <= b <= 12 and 1 <= a <= 31 else None
    as_mdy = (b, a) if 1 <= a <= 12 and 1 <= b <= 31 else None
    if as_dmy and as_mdy and as_dmy != as_mdy and date_order.upper() in ("DMY", "MDY"):
        return [as_dmy if date_order.upper() == "DMY" else as_mdy]
    return [r for r in {as_dmy, as_mdy} if r]


def _found(text: str, date_order: str) -> list[tuple[int, list[tuple[int, int]], int]]:
    """Every (position, its (day, month) readings, year or 0) named in the text."""
    out: list[tuple[int, list[tuple[int, int]], int]] = []
    taken: list[range] = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            if any(m.start() in span for span in taken):
                continue
            month = m["m"]
            number = MONTHS.get(month.lower()) if not month.isdigit() else int(month)
            year = int(m["y"]) + (2000 if m["y"] and len(m["y"]) == 2 else 0) if m["y"] else 0
            if number:
                out.append((m.start(), [(int(m["d"]), number)], year))
                taken.append(range(m.start(), m.end()))
    for m in _SLASHED.finditer(text):
        readings = _numeric(int(m["a"]), int(m["b"]), date_order)
        if readings and not any(m.start() in span for span in taken):
            year = int(m["y"]) + (2000 if m["y"] and len(m["y"]) == 2 else 0) if m["y"] else 0
            out.append((m.start(), readings, year))
    return out


def _day(day: int, month: int, year: int, sent: dt.date) -> dt.date | None:
    """The day meant: the next such day from `sent` when no year is named."""
    try:
        made = dt.date(year or sent.year, month, day)
        if not year and made < sent:
            made = made.replace(year=sent.year + 1)
    except ValueError:
        return None
    return made if sent <= made <= sent + dt.timedelta(days=AWAY_DAYS) else None


def return_day(text: str, sent: dt.date, date_order: str = "") -> dt.date | None:
    """The partner's return day an automatic reply names (EMAIL.md), or None: the day after
    a return word when there is one, else the latest day named; weekdays alone never."""
    text = _PHONES.sub(" ", " ".join(text.split()))
    cue_ends = [m.end() for m in _CUES.finditer(text)]
    named: list[dt.date] = []
    cued: list[dt.date] = []
    found = sorted(_found(text, date_order))
    for i, (at, readings, year) in enumerate(found):
        days = {d for d in (_day(day, month, year, sent) for day, month in readings) if d}
        if len(days) != 1:  # none in the window, or two readings the sheet does not settle
            continue
        made = days.pop()
        named.append(made)
        previous = found[i - 1][0] if i else -1
        if any(previous < end <= at and at - end <= _CUE_REACH for end in cue_ends):
            cued.append(made)
    return max(cued or named, default=None)
