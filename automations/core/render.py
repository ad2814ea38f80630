"""Email templates: a Subject line and a Markdown body, rendered to text and HTML.

Sheet values are data, never markup: every `{{ value }}` is replaced by a token
while the template renders, the Markdown is converted with only the template's own
text in it, and the tokens are then swapped for the values (HTML-escaped in the
HTML part, as they are in the plain-text part and the subject).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType, TracebackType
from typing import Any

import jinja2
import markdown
from markupsafe import Markup

from automations.core.wording import greeting_name
from automations.errors import TemplateFault

TEMPLATE_SUFFIX = ".md"
_SUBJECT = re.compile(r"^subject:[ \t]*(.*)$", re.IGNORECASE)
_TOKEN = re.compile(r"XPAVAL(\d{5})X")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\s]+\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
IMAGE_WIDTH = 600
IMAGE_STYLE = "max-width: 100%; height: auto;"
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")
_BLOCK_TAG = re.compile(r"\{%.*?%\}")
_LINE_END_TAG = re.compile(r"([^+\-])%\}[ \t]*$")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])[ \t]+\S")
_TABLE_ROW = re.compile(r"^\|.*\|[ \t]*$")
_TABLE_RULE = re.compile(r"^\|[\s:|-]+\|[ \t]*$")
TABLE_STYLE = {
    "table": "border-collapse: collapse; margin: 0.5em 0 1em;",
    "th": "text-align: left; padding: 4px 14px 4px 0; border-bottom: 1px solid #ccc;",
    "td": "padding: 4px 14px 4px 0; vertical-align: top;",
}
_FIELD = re.compile(r"has no attribute '([^']+)'|'([^']+)' is undefined")

HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; \
font-size: 15px; line-height: 1.5; color: #222; max-width: 36em;">
{body}
</body></html>
"""


@dataclass(frozen=True)
class TemplateSource:
    """One template file's text, and the name to show in messages (`templates/thank.md`)."""

    name: str
    label: str
    text: str
    unreadable: str = ""  # why the file could not be read (its kind is held back, not the run)


@dataclass(frozen=True)
class Rendered:
    """A rendered email: subject, plain-text body and HTML body."""

    subject: str
    text: str
    html: str


@lru_cache(maxsize=256)
def to_html(source: str) -> str:
    """Markdown -> HTML. Values are still tokens here, so partners on the same path through
    a template share one conversion (the Markdown library is the slow part of rendering)."""
    page = markdown.markdown(
        source, extensions=["nl2br", "sane_lists", "tables"], output_format="html"
    )
    for tag, style in TABLE_STYLE.items():
        page = page.replace(f"<{tag}>", f'<{tag} style="{style}">')
    return page


def plain_tables(text: str, raw: Callable[[str], str]) -> str:
    """The text part of `text` with its values put back (`raw`), and each Markdown table set
    out as aligned columns: no `|` a reader has to decode (EMAIL.md, Paragraphs stay
    paragraphs). Cells are split before values go in, so a `|` in a value stays a letter."""
    out: list[str] = []
    block: list[list[str]] = []

    def flush() -> None:
        if block:
            columns = range(max(len(r) for r in block))
            widths = [max(len(r[i]) for r in block if i < len(r)) for i in columns]
            out.extend(
                "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip()
                for r in block
            )
            block.clear()

    for line in text.split("\n"):
        if _TABLE_ROW.match(line):
            if not _TABLE_RULE.match(line):
                block.append([raw(c.strip()) for c in line.strip().strip("|").split("|")])
            continue
        flush()
        out.append(raw(line))
    flush()
    return "\n".join(out)


def plain(value: Any) -> str:
    """How a value reads in an email: blanks are empty, whole numbers have no `.0`."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if _is_missing(value) else str(value)


def _is_missing(value: Any) -> bool:
    """pandas' NaT and NA print as text; in an email they are blanks."""
    return type(value).__name__ in ("NaTType", "NAType")


CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def money(value: Any, currency: str = "") -> str:
    """1200.5 -> "1,200.50"; with a currency, "$1,200.50" or "CHF 1,200.50"; blank stays
    blank."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return plain(value)
    amount = f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"
    code = currency.strip().upper()
    if not code:
        return amount
    sign = CURRENCY_SIGNS.get(code)
    return f"{sign}{amount}" if sign else f"{code} {amount}"


def first_name(value: Any) -> str:
    """The first name in a name ("Dr. Zoë Ñúñez" -> "Zoë"), "" when it cannot be told
    (EMAIL.md, "Names"): kept for users' own templates; shipped ones use `first_name`."""
    return greeting_name({"name": plain(value)})


def upper_first(value: Any) -> str:
    """ "on 24 November" -> "On 24 November" (the rest as it is, unlike `capitalize`)."""
    text = plain(value)
    return text[:1].upper() + text[1:]


def long_date(value: Any) -> str:
    """2026-11-24 -> "24 November 2026"; blank stays blank."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    return plain(value)


def keep_line_breaks(body: str) -> str:
    """`trim_blocks` drops the newline after every block tag: right for a line that holds
    only tags, wrong for `...sentence.{% endif %}` (the next paragraph would be glued to it).
    Such a tag gets Jinja's `+%}`, which keeps its newline; line numbers stay as they are."""
    out = []
    for line in body.split("\n"):
        if _BLOCK_TAG.search(line) and _BLOCK_TAG.sub("", line).strip():
            line = _LINE_END_TAG.sub(r"\1+%}", line)
        out.append(line)
    return "\n".join(out)


def paragraphs(source: str) -> str:
    """The rendered Markdown with its paragraphs kept apart from its lists, whatever the
    block tags left: a list starts and ends with a blank line (so a closing sentence never
    lands inside the last item) and its items stand together (no blank lines between)."""
    lines = source.split("\n")
    out: list[str] = []
    previous = "blank"
    for index, line in enumerate(lines):
        kind = "blank" if not line.strip() else "item" if _LIST_ITEM.match(line) else "text"
        if kind == "blank" and previous == "item":
            following = next((x for x in lines[index + 1 :] if x.strip()), "")
            if _LIST_ITEM.match(following):
                continue  # a blank between two items: one list, not a loose one
        if kind == "item" and previous == "text":
            out.append("")
        if kind == "text" and previous == "item" and not line.startswith((" ", "\t")):
            out.append("")
        out.append(line)
        previous = kind
    return "\n".join(out)


def split_source(text: str) -> tuple[str, str, int]:
    """(subject template, body template, line number of the body's first line)."""
    lines = text.splitlines()
    if not lines or not _SUBJECT.match(lines[0].lstrip("\ufeff")):
        return "", text, 1
    subject = _SUBJECT.match(lines[0].lstrip("\ufeff"))
    assert subject is not None
    start = 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    return subject.group(1).strip(), "\n".join(lines[start:]) + "\n", start + 1


class _Values:
    """The values of one render, each behind a token."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def token(self, value: Any) -> Markup:
        if isinstance(value, Markup):  # literal template text passed through a filter
            return value
        self.items.append(plain(value))
        return Markup(f"XPAVAL{len(self.items) - 1:05d}X")

    def raw(self, text: str) -> str:
        return _TOKEN.sub(lambda m: self.items[int(m.group(1))], text)

    def escaped(self, text: str) -> str:
        return _TOKEN.sub(
            lambda m: html.escape(self.items[int(m.group(1))], quote=True).replace("\n", "<br>\n"),
            text,
        )


def _environment(finalize: Callable[[Any], Any], **extra: Any) -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        **extra,
    )
    env.filters.update(
        money=money, first_name=first_name, long_date=long_date, upper_first=upper_first
    )
    return env


def _as_compiled(value: Any) -> Any:
    # Jinja finalizes constant output while compiling; under autoescape a constant arrives as
    # Markup, which `_Values.token` passes through untouched, so this stand-in compiles the
    # same code without a render's values.
    return value


_COMPILER = _environment(_as_compiled)


@lru_cache(maxsize=256)
def compiled_code(key: str, label: str, text: str) -> CodeType:
    """One template part's Python code, compiled once per text (EMAIL.md): each run builds
    its Templates anew, and compiling all of them took ~40 ms a time, binding ~1 ms."""
    return _COMPILER.compile(text, key, label)


class Templates:
    """Compiled templates by name; `render` turns one into subject, text and HTML."""

    def __init__(self, sources: Mapping[str, TemplateSource]) -> None:
        self.sources = dict(sources)
        self._values = _Values()
        self.env = _environment(self._finalize, loader=jinja2.FunctionLoader(self._load))
        self._compiled: dict[str, tuple[jinja2.Template, jinja2.Template]] = {}

    def _finalize(self, value: Any) -> Markup:
        return self._values.token(value)

    def _load(self, key: str) -> tuple[str, str, Any]:
        name, part = key.rsplit("#", 1)
        source = self.sources[name]
        subject, body, first = split_source(source.text)
        text = subject if part == "subject" else "\n" * (first - 1) + keep_line_breaks(body)
        return text, source.label, lambda: True

    def _template(self, key: str) -> jinja2.Template:
        text, label, _ = self._load(key)
        code = compiled_code(key, label, text)
        return self.env.template_class.from_code(self.env, code, self.env.make_globals(None))

    def check(self, name: str) -> None:
        """Compile `name`; raise TemplateFault when it is missing or has a syntax error."""
        if name in self._compiled:
            return
        source = self.sources.get(name)
        if source is None:
            raise TemplateFault(f"templates/{name}{TEMPLATE_SUFFIX}", None, "no such template")
        if source.unreadable:
            raise TemplateFault(source.label, None, source.unreadable)
        if not split_source(source.text)[0]:
            raise TemplateFault(source.label, 1, "the first line must be `Subject: ...`")
        try:
            subject = self._template(f"{name}#subject")
            body = self._template(f"{name}#body")
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateFault(source.label, exc.lineno, exc.message or "syntax error") from exc
        self._compiled[name] = (subject, body)

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Render template `name` with `context`; raise TemplateFault naming line and field."""
        self.check(name)
        subject_t, body_t = self._compiled[name]
        label = self.sources[name].label
        self._values = _Values()
        try:
            subject = subject_t.render(context)
            body = body_t.render(context)
        except Exception as exc:
            raise _fault(label, exc) from exc
        values = self._values
        source = re.sub(r"\n{3,}", "\n\n", paragraphs(body.strip("\n"))) + "\n"
        plain_source = _EMPHASIS.sub(r"\2", source)  # no `**` left in the text part
        text = plain_tables(
            _LINK.sub(r"\1 (\2)", _IMAGE.sub(r"(\1: in the HTML version)", plain_source)),
            values.raw,
        )
        page = _EMPTY_PARAGRAPH.sub("", values.escaped(to_html(source)))
        # Images fit a phone: at most 600 CSS pixels wide, scaled down on narrow screens.
        page = page.replace("<img ", f'<img width="{IMAGE_WIDTH}" style="{IMAGE_STYLE}" ')
        return Rendered(
            subject=values.raw(subject).strip(),
            text=text,
            html=HTML_PAGE.format(body=page),
        )


def _line_in(label: str, tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == label:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _fault(label: str, exc: Exception) -> TemplateFault:
    line = _line_in(label, exc.__traceback__)
    if isinstance(exc, jinja2.UndefinedError):
        found = _FIELD.search(str(exc))
        field = next((g for g in found.groups() if g), None) if found else None
        message = f"unknown field {field!r}" if field else str(exc)
        return TemplateFault(label, line, message)
    return TemplateFault(label, line, f"{type(exc).__name__}: {exc}")
