from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from telecrm.accounts.repository import AccountRepository
from telecrm.config import Settings
from telecrm.contacts.models import Contact
from telecrm.contacts.phones import InvalidPhoneNumber, to_e164
from telecrm.contacts.repository import ContactRepository
from telecrm.contacts.schemas import ContactDTO, ContactFields, ContactRead
from telecrm.crm.cleaning import FieldProblem
from telecrm.crm.connector import CrmConnector, CrmDomain
from telecrm.crm.links import AccountLinks
from telecrm.crm.service_base import CrmService


class ContactService(CrmService[Contact, ContactDTO]):
    domain = CrmDomain.CONTACTS
    noun = "contact"
    model = Contact
    dto = ContactDTO
    content = ContactFields
    read_model = ContactRead
    repository_class = ContactRepository
    key_field = "contact_id"
    normalised_fields = ("phone",)
    phone_fields = ("phone",)

    def __init__(
        self, session: Session, settings: Settings, connector: CrmConnector | None = None
    ) -> None:
        super().__init__(session, settings, connector, AccountLinks(AccountRepository(session)))

    def _normalise_field(self, field_name: str, value: Any) -> Any:
        if field_name != "phone":
            return value
        try:
            return to_e164(str(value), self.settings.phone_default_region)
        except InvalidPhoneNumber as exc:
            raise FieldProblem("phone", str(exc)) from exc
