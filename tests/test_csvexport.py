"""The rule every CSV export applies to its cells."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from telecrm.csvexport import CellKind, Writer, cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Budi = boss", "Budi = boss"),
        ("", ""),
        (None, None),
        ("'=already", "'=already"),
    ],
)
def test_text_that_starts_like_a_formula_gets_a_quote(value: str | None, written: str) -> None:
    assert cell(value) == written


@pytest.mark.parametrize(
    ("value", "kind", "written"),
    [
        ("+622155501234", CellKind.PHONE, "+622155501234"),
        ("+cmd", CellKind.PHONE, "'+cmd"),
        ("+62 21 5550", CellKind.PHONE, "'+62 21 5550"),
        ("-1.50", CellKind.PHONE, "'-1.50"),
        ("-1.50", CellKind.NUMBER, "-1.50"),
        ("-12", CellKind.NUMBER, "-12"),
        ("-1.5e3", CellKind.NUMBER, "'-1.5e3"),
        ("-1+1", CellKind.NUMBER, "'-1+1"),
        ("+622155501234", CellKind.TEXT, "'+622155501234"),
        ("-1.50", CellKind.TEXT, "'-1.50"),
        (-5, CellKind.TEXT, -5),
        (Decimal("-1.50"), CellKind.TEXT, Decimal("-1.50")),
    ],
)
def test_a_number_stays_only_in_a_column_of_numbers(
    value: object, kind: CellKind, written: object
) -> None:
    assert cell(value, kind) == written


def test_the_writer_takes_each_columns_kind_and_quotes_a_cr() -> None:
    out = io.StringIO(newline="")
    writer = Writer(out, {"name": CellKind.TEXT, "phone": CellKind.PHONE, "cost": CellKind.NUMBER})
    writer.writerow(["=1", "+62811", "-0.25"])
    writer.writerow(["a\r=1+1", None, -2])
    assert out.getvalue() == 'name,phone,cost\r\n\'=1,+62811,-0.25\r\n"a\r=1+1",,-2\r\n'
    assert list(csv.reader(io.StringIO(out.getvalue(), newline="")))[2] == ["a\r=1+1", "", "-2"]
    with pytest.raises(ValueError):
        writer.writerow(["=1"])
