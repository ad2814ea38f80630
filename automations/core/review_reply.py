"""The strict grammar of a reply to the review email (EMAIL.md, "Review before sending"):
`send all`, `send 1 3`, `send 1-3`, `skip 2`, `later 4 2027-01-10`, `later 4 14 January`
and a few fillers. A reply is applied only when every line of the owner's own words is
understood; one negation, unknown word or impossible date makes it apply nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from automations.core.review import Decision

# Words that turn a line around. Reading past them once sent what the owner held back
# ("send all but 3"), so any of them makes the whole reply apply nothing.
NEGATIONS = frozenset(
    {"not", "no", "don't", "dont", "except", "but", "never", "without", "nor", "cannot",
     "nothing", "none", "neither", "instead", "unless", "excluding", "besides", "hold"}
)  # fmt: skip
# Words that may stand anywhere and mean nothing (politeness, greetings, sign-offs).
FILLERS = frozenset(
    {"thanks", "thank", "you", "please", "pls", "ok", "okay", "and", "thx", "cheers",
     "regards", "best", "kind", "many", "hi", "hello", "great", "ta"}
)  # fmt: skip
VERBS = ("send", "skip", "later")
MONTHS = {
    m: n
    for n, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for m in names
}
LONGEST_RANGE = 10_000  # `send 1-99999999` is a typo, not a decision
_TOKEN = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d+\s*-\s*\d+|\d+(?:st|nd|rd|th)?|[^\W\d_]+(?:'[a-z]+)?"
)


@dataclass
class ReplyDecisions:
    """What a reply to a review email asks for, by number, and what was not understood
    (when anything was, the reply applies nothing)."""

    by_number: dict[int, Decision] = field(default_factory=dict)
    send_all: bool = False
    skip_all: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing in the reply was a decision."""
        return not (self.by_number or self.send_all or self.skip_all)

    def for_number(self, number: int) -> Decision | None:
        """The decision for proposal `number` (a numbered one wins over `all`)."""
        if number in self.by_number:
            return self.by_number[number]
        if self.send_all:
            return Decision("send")
        if self.skip_all:
            return Decision("skip")
        return None

    def said(self, numbers: Iterable[int] | None = None) -> str:
        """The decisions in words, for the Log (only `numbers` when given)."""
        wanted = set(self.by_number if numbers is None else numbers)
        parts = ["send all"] if self.send_all and numbers is None else []
        parts += ["skip all"] if self.skip_all and numbers is None else []
        for verb in ("send", "skip", "later"):
            chosen = sorted(n for n, d in self.by_number.items() if d.verb == verb and n in wanted)
            if verb == "later":
                parts += [f"later {n} {self.by_number[n].until}" for n in chosen]
            elif chosen:
                parts.append(f"{verb} {' '.join(map(str, chosen))}")
        return "; ".join(parts)


def quoted(line: str) -> str:
    """A line as the Log and the owner's answer quote it (cut when long)."""
    return repr(line if len(line) <= 60 else line[:57] + "...")


def _normal(line: str) -> str:
    return line.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")


def _is_negation(token: str) -> bool:
    return token in NEGATIONS or token.endswith("n't")


def _day(year: int, month: int, day: int, shown: str) -> dt.date | str:
    """The day, or why it is not one."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return f"{shown} is not a day of the calendar"


class _Line:
    """One line's tokens read left to right into decisions (or one problem)."""

    def __init__(self, tokens: list[str], today: dt.date, out: ReplyDecisions) -> None:
        self.tokens, self.today, self.out = tokens, today, out
        self.verb = ""
        self.got = False  # the verb has named an email
        self.numbers: list[int] = []  # `later` numbers waiting for their day

    def read(self) -> str:
        """ "" when the line was understood, else what was not."""
        at = 0
        while at < len(self.tokens):
            token = self.tokens[at]
            if token in VERBS:
                problem = self.close()
                if problem:
                    return problem
                self.verb, self.got = token, False
            elif token in FILLERS:
                pass
            elif token == "all" and self.verb in ("send", "skip"):
                self.out.send_all |= self.verb == "send"
                self.out.skip_all |= self.verb == "skip"
                self.got = True
            elif token[0].isdigit() and not self.verb:
                return f"{token!r} comes before send, skip or later"
            elif token[0].isdigit():
                at, problem = self.number_or_day(at)
                if problem:
                    return problem
            else:
                return f"the word {token!r} is not one I know"
            at += 1
        return self.close()

    def number_or_day(self, at: int) -> tuple[int, str]:
        token = self.tokens[at]
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", token):
            y, m, d = map(int, token.split("-"))
            return at, self.until(_day(y, m, d, token))
        following = self.tokens[at + 1] if at + 1 < len(self.tokens) else ""
        if self.verb == "later" and following in MONTHS:
            day_text = token.rstrip("stndrh")
            year_text = self.tokens[at + 2] if at + 2 < len(self.tokens) else ""
            explicit = re.fullmatch(r"\d{4}", year_text) is not None
            year = int(year_text) if explicit else self.today.year
            shown = f"{day_text} {following}" + (f" {year_text}" if explicit else "")
            named = _day(year, MONTHS[following], int(day_text), shown)
            if isinstance(named, dt.date) and not explicit and named <= self.today:
                named = _day(year + 1, MONTHS[following], int(day_text), shown)
            return at + (2 if explicit else 1), self.until(named)
        if not token.isdigit():
            if "-" not in token:
                return at, f"{token!r} is not a number of the list"
            first, last = (int(n) for n in token.split("-"))
            if first > last or last - first >= LONGEST_RANGE:
                return at, f"{first}-{last} is not a range of the list"
            return at, self.take(range(first, last + 1))
        return at, self.take([int(token)])

    def take(self, numbers: Iterable[int]) -> str:
        self.got = True
        if self.verb == "later":
            self.numbers += list(numbers)
        else:
            for n in numbers:
                self.out.by_number[n] = self.decided(n, Decision(self.verb))
        return ""

    def decided(self, number: int, decision: Decision) -> Decision:
        before = self.out.by_number.get(number)
        if before is not None and before != decision:
            self.out.problems.append(f"{number} has two decisions ({before.verb}, {decision.verb})")
        return decision

    def until(self, day: dt.date | str) -> str:
        if isinstance(day, str):
            return day
        if self.verb != "later" or not self.numbers:
            return f"{day.isoformat()} without `later` and a number before it"
        if day <= self.today:
            return f"{day.isoformat()} is not a day in the future"
        for n in self.numbers:
            self.out.by_number[n] = self.decided(n, Decision("later", day))
        self.numbers = []
        return ""

    def close(self) -> str:
        if self.verb == "later" and self.numbers:
            return "`later` needs a day after the numbers (later 4 2027-01-10)"
        return f"`{self.verb}` names no email" if self.verb and not self.got else ""


def _signature(tokens: Sequence[str], names: frozenset[str]) -> bool:
    """A line of names and fillers only ("Best, Alex"), or nothing at all."""
    return all(t in names or t in FILLERS for t in tokens)


def parse_reply(lines: Sequence[str], today: dt.date, names: Iterable[str] = ()) -> ReplyDecisions:
    """Read the owner's own lines; every line must be a decision, a filler or the owner's
    signature, else `problems` says which line and why (EMAIL.md, review by reply)."""
    out = ReplyDecisions()
    signed = frozenset(w for n in names for w in _TOKEN.findall(_normal(n)))
    for line in lines:
        tokens = [t.replace(" ", "") for t in _TOKEN.findall(_normal(line))]
        if _signature(tokens, signed):
            continue
        negation = next((t for t in tokens if _is_negation(t)), "")
        if negation:
            out.problems.append(
                f"{quoted(line)} says {negation!r}: write only what to do (send 1, skip 2)"
            )
            continue
        verbs = [t for t in tokens if t in VERBS]
        before = len(out.problems)
        problem = _Line(tokens, today, out).read() if verbs else ""
        if not verbs:
            problem = "it is not a decision (send, skip or later)"
        if problem:
            out.problems.append(f"{quoted(line)}: {problem}")
        elif len(out.problems) > before:  # a conflict found while reading: name the line
            out.problems[-1] = f"{quoted(line)}: {out.problems[-1]}"
    return out
