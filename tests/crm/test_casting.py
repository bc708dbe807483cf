"""Text cast to a field's type by the DTO's own validation, or an error naming it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telecrm.accounts.models import Region
from telecrm.accounts.schemas import AccountDTO
from telecrm.crm.casting import cast_value, is_number, type_name
from telecrm.errors import ValidationFailed

FIELDS = ["account_id", "account_value", "region"]


def _cast(field_name: str, value: object) -> object:
    return cast_value(AccountDTO, "accounts", FIELDS, field_name, value, lambda _, v: v)


def test_values_are_cast_to_the_fields_types_and_blank_is_none() -> None:
    assert _cast("account_id", " 42 ") == 42
    assert _cast("account_value", "1500000") == Decimal("1500000.00")
    assert _cast("region", "Asia") is Region.ASIA
    assert _cast("region", "  ") is None


def test_a_value_or_field_that_does_not_fit_is_refused_with_the_type() -> None:
    with pytest.raises(
        ValidationFailed, match=r"accounts\.account_value \(account_value is a decimal number\)"
    ):
        _cast("account_value", "abc")
    with pytest.raises(ValidationFailed, match="one of 'North America', 'Europe', 'Asia'"):
        _cast("region", "Mars")
    with pytest.raises(ValidationFailed, match="accounts has no field 'industry'"):
        _cast("industry", "Retail")


def test_numbers_and_type_names() -> None:
    fields = AccountDTO.model_fields
    assert is_number(fields["account_value"].annotation)
    assert not is_number(fields["region"].annotation)
    assert type_name(fields["account_id"].annotation) == "an integer"
