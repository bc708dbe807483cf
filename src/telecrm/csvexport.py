"""Cells of the CSV files telecrm writes (CDR exports, CRM exports and their rejects),
safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-``
or ``@`` (or a tab, carriage return or NUL before one) as a formula: a caller name
``=HYPERLINK(...)`` from a PBX, or a contact named ``@SUM(1+1)`` in the CRM, would be
live in the spreadsheet of whoever opens the export. As OWASP advises, such a cell is
written with a leading ``'``, which the spreadsheet takes as "this is text" and does
not show. Only columns documented as numbers keep such a value as it is, and only
when it is one: a phone number ``+6221...`` (``+`` and digits), an amount ``-1.50``.
Values that are not text (integers, decimals) are numbers by their type.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

# OWASP's list (CSV Injection), and ASVS 1.2.10's NUL.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")
NEUTRALISER = "'"
_STARTS = frozenset(FORMULA_STARTS)


class CellKind(enum.Enum):
    TEXT = "text"
    PHONE = "phone"  # a phone number: ``+`` and digits
    NUMBER = "number"  # a decimal number: ``-1.50``, ``42``


_SHAPES = {
    CellKind.PHONE: re.compile(r"\+[0-9]+"),
    CellKind.NUMBER: re.compile(r"-?[0-9]+(\.[0-9]+)?"),
}


def cell(value: Any, kind: CellKind = CellKind.TEXT) -> Any:
    """``value`` as it may be written: text starting like a formula gets a leading
    ``'``, unless ``kind`` is a number's and the text is one."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    shape = _SHAPES.get(kind)
    if shape is not None and shape.fullmatch(value):
        return value
    return NEUTRALISER + value


class Writer:
    """An export's header, then its rows, every cell through ``cell`` by its column's
    kind. Lines end in CRLF (RFC 4180): the csv module then quotes a cell holding a
    CR, which a spreadsheet would otherwise take as the start of a new row, whose
    first cell would be whatever follows the CR."""

    def __init__(self, out: TextIO, columns: Mapping[str, CellKind]) -> None:
        self._csv = csv.writer(out, lineterminator="\r\n")
        self._kinds = tuple(columns.values())
        self._csv.writerow(columns)

    def writerow(self, values: Iterable[Any]) -> None:
        """One row: its values in the columns' order (None: an empty cell)."""
        # ``cell`` inlined for the cells that need no change (nearly all): an export
        # of a million CDRs calls this a million times.
        self._csv.writerow(
            [
                cell(value, kind) if value.__class__ is str and value[:1] in _STARTS else value
                for value, kind in zip(values, self._kinds, strict=True)
            ]
        )
