from __future__ import annotations

from typing import Any

from telecrm.contacts.models import Contact
from telecrm.contacts.phones import InvalidPhoneNumber, to_e164
from telecrm.contacts.repository import ContactRepository
from telecrm.contacts.schemas import ContactDTO, ContactFields, ContactRead
from telecrm.crm.connector import CrmDomain
from telecrm.crm.service_base import CrmService, FieldProblem


class ContactService(CrmService[Contact, ContactDTO]):
    domain = CrmDomain.CONTACTS
    noun = "contact"
    model = Contact
    dto = ContactDTO
    content = ContactFields
    read_model = ContactRead
    repository_class = ContactRepository
    key_field = "contact_id"
    links_to_account = True
    normalised_fields = ("phone",)
    phone_fields = ("phone",)

    def _normalise_field(self, field_name: str, value: Any) -> Any:
        if field_name != "phone":
            return value
        try:
            return to_e164(str(value), self.settings.phone_default_region)
        except InvalidPhoneNumber as exc:
            raise FieldProblem("phone", str(exc)) from exc
