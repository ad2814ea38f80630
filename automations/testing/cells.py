"""Cell values as the Sheets API stores, parses (RAW / USER_ENTERED) and renders them."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

EPOCH = dt.datetime(1899, 12, 30)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class Cell:
    """A stored value: kind (number, string, bool, formula), the value, a number format."""

    kind: str
    value: Any
    fmt: str = ""  # "", "date", "datetime", "percent"

    @property
    def empty(self) -> bool:
        """A cell with nothing in it."""
        return self.kind == "string" and self.value == ""

    @classmethod
    def native(cls, value: Any) -> Cell:
        """A cell from a Python (openpyxl) value."""
        if value is None:
            return cls("string", "")
        if isinstance(value, bool):
            return cls("bool", value)
        if isinstance(value, dt.datetime):
            return cls("number", (value - EPOCH).total_seconds() / 86400, "datetime")
        if isinstance(value, dt.date):
            return cls("number", float((value - EPOCH.date()).days), "date")
        if isinstance(value, int | float):
            return cls("number", float(value))
        return cls("string", str(value))


def from_input(value: Any, option: str) -> Cell:
    """A value sent in a write request, read as RAW or USER_ENTERED."""
    if isinstance(value, bool):
        return Cell("bool", value)
    if isinstance(value, int | float):
        return Cell("number", float(value))
    if value is None:
        return Cell("string", "")
    text = str(value)
    if option == "RAW":
        return Cell("string", text)
    return _user_entered(text)


def _user_entered(text: str) -> Cell:
    stripped = text.strip()
    if text.startswith("'"):
        return Cell("string", text[1:])
    if text.startswith("=") and len(text) > 1:
        result = _arithmetic(text[1:])
        return Cell("formula", text) if result is None else Cell("number", result, "formula")
    if stripped.upper() in ("TRUE", "FALSE"):
        return Cell("bool", stripped.upper() == "TRUE")
    if _NUMBER.match(stripped):
        return Cell("number", float(stripped))
    if _THOUSANDS.match(stripped):
        decimals = len(stripped.partition(".")[2])
        return Cell("number", float(stripped.replace(",", "")), f"thousands:{decimals}")
    if stripped.endswith("%") and _NUMBER.match(stripped[:-1].strip()):
        return Cell("number", float(stripped[:-1]) / 100, "percent")
    day = _date(stripped)
    if day is not None:
        return Cell("number", float((day - EPOCH.date()).days), "date")
    return Cell("string", text)


def _arithmetic(expression: str) -> float | None:
    """The value of a formula made only of numbers and + - * / ( ), else None."""
    import ast
    import operator

    ops = {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.Div: operator.truediv,
    }

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        raise ValueError("not arithmetic")

    try:
        return value(ast.parse(expression.strip(), mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None


def _date(text: str) -> dt.date | None:
    try:
        if m := _ISO_DATE.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _US_DATE.match(text):
            return dt.date(int(m[3]), int(m[1]), int(m[2]))
    except ValueError:
        return None
    return None


def _general(number: float) -> str:
    """Google's automatic number format: 12, 3.5, 0.3333333333, 1.5E+20."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    if number != 0 and (abs(number) >= 1e15 or abs(number) < 1e-9):
        mantissa, exponent = f"{number:.9E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{'+' if int(exponent) >= 0 else '-'}{abs(int(exponent)):02d}"
    return f"{round(number, 10):.10f}".rstrip("0").rstrip(".")


def _formatted(cell: Cell) -> str:
    if cell.kind == "bool":
        return "TRUE" if cell.value else "FALSE"
    if cell.kind == "number":
        if cell.fmt in ("date:iso", "datetime:iso"):
            moment = EPOCH + dt.timedelta(days=cell.value)
            return (
                moment.date().isoformat() if cell.fmt == "date:iso" else f"{moment:%Y-%m-%d %H:%M}"
            )
        if cell.fmt in ("date", "datetime"):
            moment = EPOCH + dt.timedelta(days=cell.value)
            day = f"{moment.month}/{moment.day}/{moment.year}"
            return day if cell.fmt == "date" else f"{day} {moment:%H:%M:%S}".replace(" 0", " ", 1)
        if cell.fmt == "percent":
            return f"{_general(cell.value * 100)}%"
        if cell.fmt.startswith("thousands:"):
            return f"{cell.value:,.{int(cell.fmt.split(':')[1])}f}"
        return _general(cell.value)
    if cell.kind == "formula":
        return ""  # the emulator does not calculate
    return str(cell.value)


def render(cell: Cell | None, option: str, date_option: str) -> Any:
    """The value of a cell in a read response."""
    if cell is None or cell.empty:
        return ""
    if option == "FORMATTED_VALUE":
        return _formatted(cell)
    if option == "FORMULA" and cell.kind == "formula":
        return cell.value
    if cell.kind == "number":
        if cell.fmt.startswith("date") and date_option == "FORMATTED_STRING":
            return _formatted(cell)
        value = cell.value
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    if cell.kind == "formula":
        return ""
    return cell.value
