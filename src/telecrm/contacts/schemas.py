from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, EmailStr, Field, StringConstraints

from telecrm.contacts.models import LeadSource
from telecrm.crm.schemas import BusinessId, Content, CrmFields, ListQuery, StoredRecord
from telecrm.db import IntId

E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _email(value: str) -> str:
    """The shape of an address, its domain in lower case (as EmailStr writes it)."""
    if not _EMAIL.match(value):
        raise ValueError("value is not an e-mail address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


# The CRM's addresses (HubSpot validated them) are checked by shape only: a full
# check per record would be a third of an extract's time. People typing in the API
# get the full check (EmailStr).
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
TypedEmail = Annotated[EmailStr, Field(max_length=254)]
# What a person or the CRM may type; the service stores it in E.164.
PhoneInput = Annotated[
    str,
    Field(
        max_length=40,
        description="Any usual format; stored in E.164. Without +country code the "
        "region is TELECRM_PHONE_DEFAULT_REGION (ID).",
    ),
]


class ContactFields(Content):
    contact_id: str = Field(min_length=1, max_length=64)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: Email
    phone: E164 | None = None
    job_title: str | None = Field(default=None, max_length=150)
    lead_source: LeadSource
    last_contact_date: dt.date | None = None
    account_id: BusinessId | None = None


class ContactDTO(CrmFields, ContactFields):
    """A contact as exchanged with the CRM and written to the export files."""


class ContactCreate(ContactFields):
    model_config = ConfigDict(extra="forbid")

    email: TypedEmail
    phone: PhoneInput | None = None


class ContactUpdate(Content):
    """The fields to change; the business key (contact_id) never changes."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    email: TypedEmail | None = None
    phone: PhoneInput | None = None
    job_title: str | None = Field(default=None, max_length=150)
    lead_source: LeadSource | None = None
    last_contact_date: dt.date | None = None
    account_id: BusinessId | None = None


class ContactRead(ContactDTO, StoredRecord):
    pass


class ContactQuery(ListQuery):
    sort: str = Field(default="contact_id", description="A field; '-field' sorts descending.")
    contact_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = Field(default=None, description="Any usual format; matched in E.164.")
    job_title: str | None = None
    lead_source: LeadSource | None = None
    last_contact_date: dt.date | None = None
    account_id: IntId | None = None
    crm_id: str | None = None
