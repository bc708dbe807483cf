from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from telecrm.contracts.models import ContractStatus
from telecrm.db import IntId
from telecrm.money import CURRENCY_EXPONENTS


def _known_currency(code: str) -> str:
    code = code.upper()
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(
            f"unknown currency {code!r} (ISO 4217; known: {', '.join(sorted(CURRENCY_EXPONENTS))})"
        )
    return code


def _rewrite_rule(rule: tuple[str, str]) -> tuple[str, str]:
    prefix, replacement = rule
    if not prefix or not re.fullmatch(r"\+?\d*", prefix):
        raise ValueError(f"rule prefix {prefix!r}: digits, optionally after a '+'")
    if replacement and not replacement.isdigit():
        raise ValueError(f"rule replacement {replacement!r}: digits only")
    return rule


Accountcode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^\S+$")
]
Currency = Annotated[
    str, StringConstraints(min_length=3, max_length=3), AfterValidator(_known_currency)
]
TaxRate = Annotated[
    Decimal, Field(ge=0, le=100, decimal_places=4, description="Percent: 11 = 11 %.")
]
RewriteRule = Annotated[tuple[str, str], AfterValidator(_rewrite_rule)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]


class ContractCreate(BaseModel):
    company_name: Text200
    accountcode: Accountcode
    contact_person: Text200 | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    address: str | None = None
    status: ContractStatus = ContractStatus.ACTIVE
    rate_group_id: IntId
    currency: Currency = "IDR"
    tax_rate: TaxRate = Decimal(0)
    payment_terms_days: int = Field(default=30, ge=0, le=365)
    rewrite_rules: list[RewriteRule] | None = Field(
        default=None,
        description="Number rewrite rules overriding the installation's: [prefix, replacement] "
        "pairs, the first matching prefix is replaced once (RATING.md §1).",
    )
    account_id: IntId | None = Field(default=None, description="The CRM account (its account_id).")


class ContractUpdate(BaseModel):
    company_name: Text200 | None = None
    accountcode: Accountcode | None = None
    contact_person: Text200 | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    address: str | None = None
    status: ContractStatus | None = None
    rate_group_id: IntId | None = None
    currency: Currency | None = None
    tax_rate: TaxRate | None = None
    payment_terms_days: int | None = Field(default=None, ge=0, le=365)
    rewrite_rules: list[RewriteRule] | None = None
    account_id: IntId | None = None


class ContractRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    company_name: str
    accountcode: str
    contact_person: str | None
    email: str | None
    phone: str | None
    address: str | None
    status: ContractStatus
    rate_group_id: int
    currency: str
    tax_rate: Decimal
    payment_terms_days: int
    rewrite_rules: list[tuple[str, str]] | None
    account_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
