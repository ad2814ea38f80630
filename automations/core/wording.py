"""Facts as a person says them, for the templates' context (EMAIL.md, "Written as a
person would write it"): "on 12 November", "July to September", "Harbor Bakery and Koi
Ramen", counts left out when zero. Pure: every date is relative to a `today` passed in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

QUARTER_MONTHS = ("January to March", "April to June", "July to September", "October to December")
NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
OPEN_STATUSES = ("new", "contacted", "qualified")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_GREETING = re.compile(r"^(hi|hello|hey|dear|good (morning|afternoon|evening))\b.*,\s*$", re.I)
OPENING_CHARACTERS = 320
# EMAIL.md, "Names": titles dropped before the first name is taken ("M." only with its dot:
# a bare M is an initial).
TITLES = {"dr", "prof", "mr", "ms", "mrs", "herr", "frau", "sr", "sra", "mme", "m."}
COMPANY_WORDS = {"studio", "team", "agency", "gmbh", "ltd", "llc"}
# Scripts whose name order cannot be told from the text (family name first or not).
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def as_date(value: Any) -> dt.date | None:
    """A template cell as a date, or None for a blank."""
    if value != value:  # NaT (a datetime too) and NaN: a blank the sheet reader left
        return None
    if isinstance(value, dt.datetime):
        # A blank date cell of a table is NaT, itself a datetime, equal to nothing.
        return value.date() if value == value else None
    return value if isinstance(value, dt.date) else None


def on_day(value: Any, today: dt.date) -> str:
    """ "on 12 November" (this year), "on 12 November 2025" (another), "" for a blank."""
    day = as_date(value)
    if day is None:
        return ""
    return f"on {day.day} {day:%B}" if day.year == today.year else f"on {day.day} {day:%B %Y}"


def when(value: Any, today: dt.date) -> str:
    """When something happened, as said in a note: "yesterday", "on Tuesday" (this past
    week), else `on_day`."""
    day = as_date(value)
    if day is None:
        return ""
    days = (today - day).days
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if 1 < days < 7:
        return f"on {day:%A}"
    return on_day(day, today)


def month_of(value: Any, today: dt.date) -> str:
    """ "in May" (this year or the last twelve months), "in May 2024" (longer ago)."""
    day = as_date(value)
    if day is None:
        return ""
    recent = (today - day).days < 330
    return f"in {day:%B}" if recent else f"in {day:%B %Y}"


def quarter_name(label: str, today: dt.date | None = None) -> str:
    """`2026Q3` -> "July to September"; with the year ("July to September 2024") when the
    quarter is more than the last two."""
    found = _QUARTER.match(label)
    if not found:
        return label
    year, quarter = int(found.group(1)), int(found.group(2))
    months = QUARTER_MONTHS[quarter - 1]
    if today is None:
        return months
    ago = (today.year * 4 + (today.month - 1) // 3) - (year * 4 + quarter - 1)
    return months if 0 <= ago <= 2 else f"{months} {year}"


def count_of(n: int, one: str, many: str) -> str:
    """3 -> "three clients"; 1 -> "one client"; words up to ten, digits beyond."""
    word = NUMBERS[n] if 0 <= n < len(NUMBERS) else str(n)
    return f"{word} {one if n == 1 else many}"


def names(items: Iterable[str]) -> str:
    """["A", "B", "C"] -> "A, B and C"; blanks left out."""
    words = [str(i).strip() for i in items if str(i).strip()]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def introductions(referrals: Sequence[Mapping[str, Any]], today: dt.date) -> dict[str, Any]:
    """The referrals an email is about, ready to say: one as a sentence ("Harbor Bakery on
    12 November"), several as names and as list items; won, lost and open apart."""
    items = [
        {
            "client": str(r.get("client") or ""),
            "on": on_day(r.get("date"), today),
            "status": str(r.get("status") or ""),
            "line": _line(r, today),
        }
        for r in referrals
    ]
    won = [i["client"] or "your referral" for i in items if i["status"] == "won"]
    lost = [i["client"] or "your referral" for i in items if i["status"] == "lost"]
    named = [i["client"] for i in items if i["client"]]
    one = items[0] if len(items) == 1 else None
    return {
        "count": len(items),
        "several": len(items) > 1,
        "entries": items,
        "names": names(named) if len(named) == len(items) else "",
        "sentence": _line(referrals[0], today) if one else "",
        "won": won,
        "lost": lost,
        "won_names": names(won),
        "lost_names": names(lost),
        "open": [i["client"] for i in items if i["status"] in OPEN_STATUSES],
    }


def _line(referral: Mapping[str, Any], today: dt.date) -> str:
    client = str(referral.get("client") or "").strip()
    day = on_day(referral.get("date"), today)
    if client:
        return f"{client} {day}".strip()
    return f"the client you sent me {day}".strip()


def exchange(quarter: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """Last quarter's exchange as words: its name, and one sentence that leaves out every
    count of zero ("" when nothing was exchanged: then nothing is claimed either way)."""
    name = quarter_name(str(quarter.get("label", "")), today)
    received, given = int(quarter.get("received", 0)), int(quarter.get("given", 0))
    won, open_ = int(quarter.get("won", 0)), int(quarter.get("open", 0))
    parts = []
    if received:
        clients = names(quarter.get("clients", []))
        parts.append(
            f"you sent me {count_of(received, 'client', 'clients')}"
            + (f" ({clients})" if clients else "")
        )
    if given:
        parts.append(f"I sent you {count_of(given, 'client', 'clients')}")
    sentence = ""
    if parts:
        sentence = f"From {name}, {names(parts)}"
        outcomes = []
        if won and won == received + given == 1:
            outcomes.append("it became a project")
        elif won:
            outcomes.append(f"{count_of(won, 'became a project', 'became projects')}")
        if open_:
            outcomes.append(f"{count_of(open_, 'is', 'are')} still open")
        if outcomes:
            sentence += (
                f", and {names(outcomes)}"
                if outcomes[0].startswith("it ")
                else f"; {names(outcomes)}"
            )
        sentence += "."
    return {"name": name, "sentence": sentence, "exchanged": bool(parts)}


def opening(text: str) -> str:
    """The first lines of an email's text part, greeting and signature left out: what a
    follow-up quotes of the note it follows."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if paragraphs and _GREETING.match(paragraphs[0].splitlines()[0]):
        first = paragraphs[0].splitlines()[1:]
        paragraphs = (["\n".join(first)] if first else []) + paragraphs[1:]
    quoted = ""
    for paragraph in paragraphs:
        first_line = paragraph.splitlines()[0].strip()
        if len(first_line) <= 30 and first_line.endswith(","):  # "Best," "Kind regards,"
            break
        joined = " ".join(paragraph.split())
        if quoted and len(quoted) + len(joined) > OPENING_CHARACTERS:
            break
        quoted = f"{quoted}\n\n{joined}".strip()
        if len(quoted) >= OPENING_CHARACTERS // 2:
            break
    if len(quoted) > OPENING_CHARACTERS:
        quoted = quoted[:OPENING_CHARACTERS].rsplit(" ", 1)[0] + " …"
    return quoted


def _is_title(word: str) -> bool:
    low = word.lower()
    return low in TITLES or (low.endswith(".") and low[:-1] in TITLES)


def greeting_name(partner: Mapping[str, Any]) -> str:
    """The name a partner is greeted by, or "" for "Hi there" (EMAIL.md, "Names"):
    `first_name` / `preferred_name` win; titles are dropped; a one-word, company-like or
    CJK name is not guessed at."""
    for column in ("first_name", "preferred_name"):
        given = str(partner.get(column) or "").strip()
        if given:
            return given
    name = str(partner.get("name") or "").strip()
    company = str(partner.get("company") or "").strip()
    if not name or _CJK.search(name) or name.casefold() == company.casefold():
        return ""
    words = name.split()
    while words and _is_title(words[0]):
        words = words[1:]
    bare = {w.strip(".,&()").lower() for w in words}
    if len(words) < 2 or bare & COMPANY_WORDS:
        return ""
    return words[0]


def greeting_note(partner: Mapping[str, Any]) -> str:
    """Why a partner is greeted "Hi there" and what fixes it, or "" when a name is used."""
    name = str(partner.get("name") or "").strip()
    if not name or greeting_name(partner):
        return ""
    return (
        f"name {name!r} gives no first name to greet (one word, a company, a title only or "
        'a name whose order is not known): emails say "Hi there"; '
        "add a first_name column with the name to use"
    )


def greeting_lines(partners: Any) -> list[str]:
    """`partners check`: each Partners row greeted "Hi there", with its row and the fix."""
    out = []
    for row in partners.to_dict("records"):
        note = greeting_note(row)
        if note:
            out.append(f"Partners!{row.get('row', '?')} {note}")
    return out


def turn(sent: int) -> dict[str, int]:
    """Which of three openings, four middles and five closings the next email of a kind
    uses, from how many of that kind went before: deterministic (a rerun or a review shows
    the same words), and any two of the next twelve differ in at least two of the three
    parts, since 3, 4 and 5 share no factor (EMAIL.md, "No repeats")."""
    return {"opening": sent % 3, "middle": sent % 4, "closing": sent % 5}


def history(health: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The history with a partner as ready-to-say facts (EMAIL.md, "Over a year")."""
    engaged, emailed = as_date(health.get("last_inbound")), as_date(health.get("last_email"))
    cadence = health.get("cadence")
    cadence = 90 if cadence in ("", None) or cadence != cadence else int(cadence)
    since = (today - engaged).days if engaged else None
    checkins, surveys = (int(health.get(k) or 0) for k in ("checkins_sent", "surveys_sent"))
    value = health.get("survey_avg")
    rating = float(value) if isinstance(value, int | float) and value == value else None
    answered = engaged is not None and since is not None and since <= cadence
    return {
        "checkins": checkins,
        "surveys": surveys,
        "checkin": turn(checkins),
        "survey": turn(surveys),
        # The partner engaged since our last email, within the cadence: acknowledge it.
        "answered": answered and (emailed is None or (engaged is not None and engaged >= emailed)),
        "a_while": since is not None and since > cadence,
        # An ask ("what kind of client") is not repeated within a quarter across kinds.
        "asked_lately": emailed is not None and (today - emailed).days < 90,
        "last_rating": "" if rating is None else rating,
        "low_rating": rating is not None and rating < 5,
    }
