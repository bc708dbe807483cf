"""The connector contract's field lists against the domains' own fields."""

from __future__ import annotations

import enum

import pytest

from telecrm.accounts.schemas import AccountFields
from telecrm.contacts.schemas import ContactFields
from telecrm.crm.connector import ENUM_FIELDS, MAPPED_FIELDS, CrmDomain, check_field_mapping
from telecrm.crm.links import ACCOUNT_FIELD
from telecrm.deals.schemas import DealFields

CONTENT = {
    CrmDomain.ACCOUNTS: AccountFields,
    CrmDomain.CONTACTS: ContactFields,
    CrmDomain.DEALS: DealFields,
}


def test_mapped_fields_are_the_content_fields_but_the_account_link() -> None:
    for domain, content in CONTENT.items():
        links = domain is not CrmDomain.ACCOUNTS
        expected = [name for name in content.model_fields if not (links and name == ACCOUNT_FIELD)]
        assert list(MAPPED_FIELDS[domain]) == expected


def test_enum_fields_are_the_fields_of_enum_type() -> None:
    enums = {
        name
        for content in CONTENT.values()
        for name, info in content.model_fields.items()
        if isinstance(info.annotation, type) and issubclass(info.annotation, enum.Enum)
    }
    assert enums == set(ENUM_FIELDS)


def test_an_override_naming_what_is_not_ours_is_refused() -> None:
    check_field_mapping({"deals": {"deal_size": "amount_idr"}})
    with pytest.raises(ValueError, match="unknown key 'leads'"):
        check_field_mapping({"leads": {}})
    with pytest.raises(ValueError, match="contacts has no field"):
        check_field_mapping({"contacts": {"deal_size": "x"}})
