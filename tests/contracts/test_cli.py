"""``telecrm rate-groups|rates|contracts import`` and their list commands, end to end."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.contracts.models import Contract, ContractStatus
from tests.conftest import CliResult

GROUPS = "id,name,memo\n1,Retail IDR,per minute\n2,Wholesale,per second\n"
RATES = (
    "rate_group_id,rate_prefix,area_prefix,description,rate_type,billing_rate,billing_cycle\n"
    "1,62,,Indonesia,per_minute,5000,60\n"
    "1,62,812,Indonesia Mobile Telkomsel,per_minute,1200,60\n"
    "2,62,,Indonesia,per_second,25,1\n"
)
CONTRACTS = (
    "company_name,accountcode,contact_person,email,phone,address,status,rate_group_id,"
    "currency,tax_rate,payment_terms_days\n"
    'PT Maju Jaya,MAJU01,Budi,budi@maju.co.id,+62215550001,"Jl. Sudirman 5\nJakarta",active,1,'
    "IDR,11,30\n"
    "PT Sinar,SINAR01,,,,,,2,,,\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reference_data_is_imported_and_listed(
    cli: Callable[..., CliResult], tmp_path: Path, committed_db: Engine
) -> None:
    for command, name, text, what in [
        ("rate-groups", "groups.csv", GROUPS, "2 rate groups created"),
        ("rates", "rates.csv", RATES, "3 rates created"),
        ("contracts", "contracts.csv", CONTRACTS, "2 contracts created"),
    ]:
        result = cli(command, "import", str(_write(tmp_path, name, text)))
        assert result.exit_code == 0, result.output
        assert what in result.stdout

    again = cli("contracts", "import", str(_write(tmp_path, "contracts.csv", CONTRACTS)))
    assert "0 contracts created, 0 updated" in again.stdout
    with Session(committed_db) as session:
        maju = session.scalars(select(Contract).where(Contract.accountcode == "MAJU01")).one()
        sinar = session.scalars(select(Contract).where(Contract.accountcode == "SINAR01")).one()
    assert (maju.address, maju.tax_rate, maju.email) == (
        "Jl. Sudirman 5\nJakarta",
        Decimal(11),
        "budi@maju.co.id",
    )
    assert (sinar.status, sinar.currency, sinar.tax_rate, sinar.payment_terms_days) == (
        ContractStatus.ACTIVE,
        "IDR",
        Decimal(0),
        30,
    )

    assert "MAJU01" in cli("contracts", "list").stdout
    listed = cli("rate-groups", "list").stdout
    assert "Retail IDR" in listed and "Wholesale" in listed
    assert "62812" in cli("rates", "list", "1").stdout


def test_a_file_with_bad_rows_lists_them_all_and_imports_nothing(
    cli: Callable[..., CliResult], tmp_path: Path, committed_db: Engine
) -> None:
    cli("rate-groups", "import", str(_write(tmp_path, "groups.csv", GROUPS)))
    # the quoted address spans lines 2-3, so the rows added here are lines 5 and 6
    bad = CONTRACTS + "PT Tanpa Grup,NOGROUP,,,,,,99,,,\nPT Salah,BAD01,,not-an-email,,,,1,,,\n"
    result = cli("contracts", "import", str(_write(tmp_path, "contracts.csv", bad)))
    assert result.exit_code == 1
    assert "contracts.csv line 5: rate_group_id 99: no such rate group" in result.stderr
    assert "contracts.csv line 6: email" in result.stderr
    assert "nothing imported (2 bad rows)" in result.stderr
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Contract)) == 0


def test_a_missing_file_is_a_usage_error(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = cli("rates", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("command", "text", "word"),
    [
        ("rate-groups", GROUPS, "Wholesale"),
        ("rates", RATES, "Indonesia"),
        ("contracts", CONTRACTS, "Jakarta"),
    ],
)
def test_a_file_that_is_not_utf8_is_one_line_naming_it(
    cli: Callable[..., CliResult],
    tmp_path: Path,
    committed_db: Engine,
    command: str,
    text: str,
    word: str,
) -> None:
    """A spreadsheet saved as Latin-1 (é as one byte, 0xE9) on its third line."""
    lines = text.splitlines(keepends=True)
    assert word in lines[2]
    lines[2] = lines[2].replace(word, word + " é", 1)
    path = tmp_path / "latin1.csv"
    path.write_bytes("".join(lines).encode("latin-1"))
    result = cli(command, "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: latin1.csv is not UTF-8 text (line 3, byte "
        f"{len(''.join(lines[:2]).encode('latin-1')) + lines[2].index('é')}): save it as UTF-8"
    ]
