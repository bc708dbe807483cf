"""The contacts domain of the CRM: its spec for the generic operations
(``crm/service_base.py``), and its one rule of its own, phones in E.164."""

from __future__ import annotations

from functools import partial
from typing import Any

from telecrm.accounts.service import account_links
from telecrm.config import Settings
from telecrm.contacts.models import Contact
from telecrm.contacts.phones import InvalidPhoneNumber, to_e164
from telecrm.contacts.repository import ContactRepository
from telecrm.contacts.schemas import ContactDTO, ContactFields, ContactRead
from telecrm.crm.cleaning import FieldProblem
from telecrm.crm.connector import CrmDomain
from telecrm.crm.service_base import CrmDomainSpec, CrmService


def phone_e164(settings: Settings, value: Any) -> str:
    try:
        return to_e164(str(value), settings.phone_default_region)
    except InvalidPhoneNumber as exc:
        raise FieldProblem("phone", str(exc)) from exc


CONTACTS = CrmDomainSpec(
    domain=CrmDomain.CONTACTS,
    noun="contact",
    model=Contact,
    dto=ContactDTO,
    content=ContactFields,
    read_model=ContactRead,
    repository=ContactRepository,
    key_field="contact_id",
    links=account_links,
    normalisers={"phone": phone_e164},
    phone_fields=("phone",),
)
# Seed 003's service object: ContactService(session, settings[, connector]).find_all()
ContactService = partial(CrmService, CONTACTS)
