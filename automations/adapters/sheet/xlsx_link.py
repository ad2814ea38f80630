"""`partners link-columns` on a workbook: INDEX/MATCH formulas beside the Partners rows that
read Health from the toolkit file (SHEET.md, "Status beside the partner's own row").

The one time the toolkit writes the user's workbook, and then only as a patch: the Partners
sheet's XML gets the new cells, the workbook an external link to `<name>.toolkit.xlsx`
(Excel's own `[1]Health!B:B` form) and a recalculation on open; every other part of the
file (charts, images, cached values, macros) is copied byte for byte. openpyxl would drop
some of those on a save (SHEET.md), so it is not used. A copy of the workbook is kept
first, and a workbook a spreadsheet program holds open (its lock file is beside it) is
refused: a save there would undo ours, or ours theirs.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import escape

from automations.adapters.sheet.xlsx import _open, _rows, toolkit_path
from automations.config import Tabs
from automations.core.linked import LinkPlan, excel_formula, plan_link
from automations.core.schema import LINKED_COLUMNS, column_letter
from automations.errors import LinkRefused, SheetError

ALREADY = "already linked, nothing changed"
DATES = ("next_due", "last_touch")
EXTERNAL_LINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink"
EXTERNAL_PATH = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath"
)
LINK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def lock_file(path: Path) -> Path | None:
    """The lock file Excel (`~$name`) or LibreOffice (`.~lock.name#`) keeps beside a
    workbook it has open, if there is one."""
    name = path.name
    for candidate in (f"~${name}", f"~${name[2:]}", f".~lock.{name}#"):
        if (path.parent / candidate).exists():
            return path.parent / candidate
    return None


def link_columns(path: Path, tabs: Tabs) -> str:
    """Add the linked columns once; what was done, in a sentence (CLI.md, link-columns)."""
    held = lock_file(path)
    if held is not None:
        raise SheetError(
            f"{path.name} is open in a spreadsheet program ({held.name} is beside it): close "
            "it there and run `partners link-columns` again (nothing was changed)"
        )
    workbook = _open(path)
    try:
        rows = _rows(workbook, tabs.partners)
        names = list(workbook.sheet_names)
    finally:
        workbook.close()
    if rows is None:
        raise SheetError(f"workbook {path} has no {tabs.partners} tab")
    title = next(n for n in names if n.lower() == tabs.partners.lower())
    try:
        plan = plan_link(rows, title)
    except LinkRefused as exc:
        raise SheetError(str(exc)) from None
    if plan is None:
        return f"{title}: {', '.join(LINKED_COLUMNS)} are there: {ALREADY}."
    kept = _backup(path)
    try:
        _patch(path, title, plan, tabs.health)
    except PermissionError as exc:
        raise SheetError(
            f"cannot write {path.name} ({exc.strerror}): is it open in a spreadsheet program? "
            "Close it and run again (nothing was changed)"
        ) from None
    except OSError as exc:
        raise SheetError(f"cannot write {path}: {exc.strerror or exc}") from None
    first, last = (
        column_letter(plan.first_column),
        column_letter(plan.first_column + len(LINKED_COLUMNS) - 1),
    )
    later = "" if toolkit_path(path).exists() else " (not there yet: `partners health` makes it)"
    return (
        f"{title}: added {', '.join(LINKED_COLUMNS)} in columns {first} to {last} for "
        f"{len(plan.rows)} partner row(s); they look each partner up in {tabs.health} of "
        f"{toolkit_path(path).name}{later} by email (the copy from before is {kept.name}). They are "
        "your cells now: the toolkit never writes them again (a partner added later: copy "
        "the formulas down; Excel may ask to update links when it opens the workbook)."
    )


def _backup(path: Path) -> Path:
    """A copy of the workbook as it was, beside it, never over an earlier copy."""
    number = 1
    while True:
        tag = "" if number == 1 else f"-{number}"
        target = path.with_name(f"{path.stem}.before-link-columns{tag}{path.suffix}")
        if not target.exists():
            shutil.copy2(path, target)
            return target
        number += 1


def _patch(path: Path, title: str, plan: LinkPlan, health: str) -> None:
    """Rewrite the workbook's package with the Partners sheet, workbook, its relations,
    styles and content types patched, to a temporary file renamed over it."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
        infos = source.infolist()
    text = {name: parts[name].decode("utf-8") for name in _patched_names(parts)}
    sheet = _sheet_part(text, title)
    number = 1 + sum(1 for n in parts if re.fullmatch(r"xl/externalLinks/externalLink\d+\.xml", n))
    link = f"xl/externalLinks/externalLink{number}.xml"
    index = _add_reference(text, f"externalLinks/externalLink{number}.xml")
    style = _date_style(text)
    text[sheet] = _add_cells(parts[sheet].decode("utf-8"), plan, (f"[{index}]", health), style)
    text[link] = _external_link(health)
    text[f"xl/externalLinks/_rels/externalLink{number}.xml.rels"] = _link_rels(path)
    text["[Content_Types].xml"] = text["[Content_Types].xml"].replace(
        "</Types>", f'<Override PartName="/{link}" ContentType="{LINK_TYPE}"/></Types>'
    )
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
            for info in infos:
                data = (
                    text[info.filename].encode() if info.filename in text else parts[info.filename]
                )
                target.writestr(info, data)
            for name in sorted(set(text) - set(parts)):
                target.writestr(name, text[name].encode())
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _patched_names(parts: dict[str, bytes]) -> list[str]:
    names = ["xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"]
    missing = [n for n in names if n not in parts]
    if missing:
        raise SheetError(f"the workbook has no {missing[0]}: it is not an .xlsx Excel made")
    return [*names, *(["xl/styles.xml"] if "xl/styles.xml" in parts else [])]


def _attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w:]+)="([^"]*)"', tag))


def _sheet_part(text: dict[str, str], title: str) -> str:
    """The package path of the sheet named `title`."""
    wanted = None
    for tag in re.findall(r"<(?:\w+:)?sheet\s[^>]*>", text["xl/workbook.xml"]):
        found = _attributes(tag)
        if found.get("name", "").replace("&amp;", "&") == title:
            wanted = next((v for k, v in found.items() if k.endswith(":id")), None)
    for tag in re.findall(r"<Relationship\s[^>]*>", text["xl/_rels/workbook.xml.rels"]):
        found = _attributes(tag)
        if found.get("Id") == wanted:
            target = found["Target"]
            if target.startswith("/"):
                return target[1:]
            return str(PurePosixPath("xl") / target)
    raise SheetError(f"the workbook's {title} tab cannot be found in its parts")


def _add_reference(text: dict[str, str], target: str) -> int:
    """Add the external link to the workbook and its relations; its 1-based number, as
    the formulas write it (`[1]Health!B:B`)."""
    rels = text["xl/_rels/workbook.xml.rels"]
    used = {int(n) for n in re.findall(r'Id="rId(\d+)"', rels)}
    rid = f"rId{max(used, default=0) + 1}"
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="{rid}" Type="{EXTERNAL_LINK}" Target="{target}"/></Relationships>',
    )
    text["xl/_rels/workbook.xml.rels"] = rels
    book = text["xl/workbook.xml"]
    prefix = _prefix(book, RELS)
    reference = f'<externalReference {prefix}id="{rid}"/>'
    count = len(re.findall(r"<externalReference\s", book))
    if "</externalReferences>" in book:
        book = book.replace("</externalReferences>", reference + "</externalReferences>")
    else:
        book = re.sub(
            r"(</sheets>(?:<functionGroups[^>]*/>)?)",
            lambda m: m.group(1) + f"<externalReferences>{reference}</externalReferences>",
            book,
            count=1,
        )
    text["xl/workbook.xml"] = _recalculate_on_open(book)
    return count + 1


def _prefix(xml: str, namespace: str) -> str:
    """`r:` where `xmlns:r` is bound to `namespace` (declared on the root if not)."""
    found = re.search(r'xmlns:(\w+)="' + re.escape(namespace) + '"', xml)
    if found:
        return found.group(1) + ":"
    raise SheetError("the workbook's workbook.xml declares no relationships namespace")


def _recalculate_on_open(book: str) -> str:
    """`fullCalcOnLoad`: the new cells carry no cached value, so the program computes them."""
    calc = re.search(r"<calcPr\b[^>]*?/?>", book)
    if calc:
        tag = re.sub(r'\sfullCalcOnLoad="[^"]*"', "", calc.group(0))
        tag = re.sub(r"(/?>)$", r' fullCalcOnLoad="1"\1', tag)
        return book[: calc.start()] + tag + book[calc.end() :]
    after = "</definedNames>" if "</definedNames>" in book else "</externalReferences>"
    return book.replace(after, after + '<calcPr fullCalcOnLoad="1"/>', 1)


def _date_style(text: dict[str, str]) -> int | None:
    """The index of a new cell format showing a date (built-in format 14), or None when
    the workbook has no styles part."""
    styles = text.get("xl/styles.xml")
    if styles is None:
        return None
    found = re.search(r'<cellXfs\b([^>]*)count="(\d+)"([^>]*)>', styles)
    if found is None:
        return None
    count = int(found.group(2))
    tag = f'<cellXfs{found.group(1)}count="{count + 1}"{found.group(3)}>'
    styles = styles[: found.start()] + tag + styles[found.end() :]
    xf = '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    text["xl/styles.xml"] = styles.replace("</cellXfs>", xf + "</cellXfs>", 1)
    return count


def _add_cells(sheet: str, plan: LinkPlan, book: tuple[str, str], style: int | None) -> str:
    """The sheet's XML with the header and formula cells appended to their rows (they lie
    right of every cell with a value, so appending keeps each row's cells in order)."""
    root = re.search(r"<(\w+:)?worksheet\b", sheet)
    p = root.group(1) or "" if root else ""
    wanted = {1: _header_cells(plan, p)}
    for row in plan.rows:
        wanted[row] = _formula_cells(plan, row, book, style, p)
    row_pattern = re.compile(rf"<{p}row\b[^>]*?(?:/>|>.*?</{p}row>)", re.DOTALL)

    def patched(match: re.Match[str]) -> str:
        whole = match.group(0)
        number = int(_attributes(whole[: whole.index(">") + 1]).get("r", "0"))
        cells = wanted.pop(number, None)
        if cells is None:
            return whole
        opening = re.sub(r'\sspans="[^"]*"', "", re.match(r"<[^>]*?(?=/?>)", whole).group(0))  # type: ignore[union-attr]
        inner = "" if whole.endswith("/>") else whole[whole.index(">") + 1 : -len(f"</{p}row>")]
        return f"{opening}>{_without_blanks(inner, plan, p)}{cells}</{p}row>"

    sheet = row_pattern.sub(patched, sheet)
    if wanted:
        raise SheetError(f"row {min(wanted)} of the Partners tab cannot be found in the file")
    last = column_letter(plan.first_column + len(LINKED_COLUMNS) - 1)

    def widened(match: re.Match[str]) -> str:
        start, _, end = match.group(1).partition(":")
        tail = re.match(r"([A-Z]+)(\d+)", end or start)
        rows = tail.group(2) if tail else str(max(plan.rows, default=1))
        return f'<{p}dimension ref="{start.split(":")[0] if end else "A1"}:{last}{rows}"/>'

    return re.sub(rf'<{p}dimension ref="([^"]*)"\s*/>', widened, sheet, count=1)


def _without_blanks(inner: str, plan: LinkPlan, p: str) -> str:
    """A row's cells less the empty (formatted only) ones where the new cells go."""

    def kept(match: re.Match[str]) -> str:
        cell = match.group(0)
        where = re.match(r"([A-Z]+)", _attributes(cell[: cell.index(">") + 1]).get("r", ""))
        column = _column(where.group(1)) if where else -1
        if column < plan.first_column:
            return cell
        if cell.endswith("/>"):
            return ""
        raise SheetError(f"cell {_attributes(cell)['r']} of the Partners tab is in the way")

    return re.sub(rf"<{p}c\b[^>]*?(?:/>|>.*?</{p}c>)", kept, inner, flags=re.DOTALL)


def _column(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number - 1


def _header_cells(plan: LinkPlan, p: str) -> str:
    return "".join(
        f'<{p}c r="{column_letter(plan.first_column + i)}1" t="inlineStr"><{p}is><{p}t>{name}</{p}t>'
        f"</{p}is></{p}c>"
        for i, name in enumerate(LINKED_COLUMNS)
    )


def _formula_cells(
    plan: LinkPlan, row: int, book: tuple[str, str], style: int | None, p: str
) -> str:
    out = []
    for i, name in enumerate(LINKED_COLUMNS):
        formula = excel_formula(plan, row, name, book[1], book[0])
        shown = f' s="{style}"' if style is not None and name in DATES else ""
        where = f"{column_letter(plan.first_column + i)}{row}"
        out.append(f'<{p}c r="{where}"{shown}><{p}f>{escape(formula[1:])}</{p}f></{p}c>')
    return "".join(out)


def _external_link(health: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<externalLink xmlns="{MAIN}" xmlns:r="{RELS}"><externalBook r:id="rId1">'
        f'<sheetNames><sheetName val="{escape(health, {chr(34): "&quot;"})}"/></sheetNames>'
        '<sheetDataSet><sheetData sheetId="0"/></sheetDataSet></externalBook></externalLink>'
    )


def _link_rels(path: Path) -> str:
    """The link's target: the toolkit file beside the workbook, by its name (relative)."""
    target = escape(toolkit_path(path).name, {chr(34): "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{EXTERNAL_PATH}" Target="{target}" '
        'TargetMode="External"/></Relationships>'
    )
