from __future__ import annotations

from telecrm.contacts.models import Contact
from telecrm.crm.repository_base import CrmRepository


class ContactRepository(CrmRepository[Contact]):
    model = Contact
    key_field = "contact_id"
