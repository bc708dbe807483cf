"""Cleaning is pure: rows in, DTOs and the rows left out (with the reason) out."""

from __future__ import annotations

import datetime as dt

from telecrm.accounts.schemas import AccountDTO
from telecrm.crm.cleaning import RejectedRow, clean_rows


def _row(account_id: object, name: str = "Acme", updated: int = 1, **extra: object) -> dict:
    return {
        "account_id": account_id,
        "account_name": name,
        "industry": "Retail",
        "account_value": "10",
        "region": "Asia",
        "crm_id": f"c{account_id}-{updated}",
        "crm_updated_at": dt.datetime(2025, 1, updated, tzinfo=dt.UTC),
        **extra,
    }


def test_missing_invalid_and_duplicate_rows_are_left_out_with_their_row_and_reason() -> None:
    result = clean_rows(
        [
            _row(1, updated=2),
            _row(2, name="  "),
            _row("x"),
            _row(1, name="Older", updated=1),
            _row(3, region="Mars"),
        ],
        AccountDTO,
        "account_id",
        missing_reasons={"account_name": "account_name (a company without a name)"},
    )
    assert [(r.account_id, r.account_name) for r in result.records] == [(1, "Acme")]
    assert [(r.row, r.key, r.reason.split(":")[0]) for r in result.rejected] == [
        (2, "2", "missing account_name (a company without a name)"),
        (3, "x", "account_id"),
        (4, "1", "duplicate account_id 1"),
        (5, "3", "region"),
    ]
    assert isinstance(result.rejected[0], RejectedRow)


def test_the_normaliser_gives_values_their_canonical_form_before_validation() -> None:
    def upper_names(values: dict) -> dict:
        return {**values, "account_name": str(values["account_name"]).upper()}

    result = clean_rows([_row(1, name="acme")], AccountDTO, "account_id", upper_names)
    assert result.records[0].account_name == "ACME"
