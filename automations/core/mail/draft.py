"""One email to send (`Draft`), and the sheet's rows as its templates see them."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from automations.core.tables import Tables
from automations.core.vocabulary import INTERNAL_KINDS, Kind


@dataclass(frozen=True)
class Draft:
    """One email to send: recipient, template, idempotency keys and what the template sees."""

    kind: Kind
    template: str
    to_email: str
    to_name: str
    keys: tuple[str, ...]
    key_partners: tuple[str, ...]  # the partner each key is about (Log `partner_email`)
    context: Mapping[str, Any]
    priority: int = 9
    score: float = 0.0
    why: str = ""
    partner_row: int | None = None  # Partners row (as the user sees it) of the addressee
    thread_message_id: str = ""
    thread_subject: str = ""
    subject: str = ""  # overrides the template's subject (campaign files)
    inline: tuple[tuple[str, bytes], ...] = ()  # (Content-ID, PNG) images the HTML shows
    cc: tuple[tuple[str, str], ...] = ()  # (name, email) in the Cc header ([mail] cc_owner)
    bcc: tuple[str, ...] = ()  # recipients no header names ([mail] bcc)
    # A Message-ID made elsewhere (the review email's random one), never shown in the Log.
    message_id: str = ""

    @property
    def internal(self) -> bool:
        """Escalations and digests go to owners, not partners."""
        return self.kind in INTERNAL_KINDS

    @property
    def partner_email(self) -> str:
        """The partner this email is about (the first, for an owner's escalations)."""
        return self.key_partners[0] if self.key_partners else self.to_email


def cell(value: Any) -> Any:
    """A table cell as templates see it: blanks are "", dates are dates, 12.0 is 12."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, np.datetime64):  # from a column array
        return "" if np.isnat(value) else pd.Timestamp(value).date()
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return int(value) if value.is_integer() else value
    if hasattr(value, "item"):  # numpy scalars
        return cell(value.item())
    return value


def record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A table row as a template context dict (without the sheet row number)."""
    return {str(k): cell(v) for k, v in row.items() if k != "row"}


class Records(Mapping[Any, dict[str, Any]]):
    """A table's rows as template records, by key, each converted on first use: a run
    emails a few partners, and converting 100,000 rows up front would cost seconds."""

    def __init__(self, frame: pd.DataFrame, keys: pd.Index) -> None:
        # Column arrays, not rows: reading one cell of an array is cheap, a pandas row is not.
        self._columns = {str(c): frame[c].to_numpy() for c in frame.columns if c != "row"}
        self._keys = keys
        self._made: dict[Any, dict[str, Any]] = {}

    def __getitem__(self, key: Any) -> dict[str, Any]:
        if key not in self._made:
            where = self._keys.get_loc(key)  # KeyError when absent, as a mapping should
            if not isinstance(where, int):
                raise KeyError(key)
            self._made[key] = {c: cell(values[where]) for c, values in self._columns.items()}
        return self._made[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class Lookup:
    """Partners, Health rows and referrals for drafting, by partner email (referrals by position)."""

    partners: Records
    rows: Mapping[str, int]
    health: Records
    referrals: Records

    @classmethod
    def build(cls, tables: Tables, health: pd.DataFrame) -> Lookup:
        """Index partners, Health rows and referrals for drafting."""
        partners = tables.partners
        return cls(
            partners=Records(partners, pd.Index(partners["email"])),
            rows=dict(zip(partners["email"], partners["row"].astype(int), strict=True)),
            health=Records(health, pd.Index(health["email"])),
            referrals=Records(tables.referrals, pd.RangeIndex(len(tables.referrals))),
        )
