from __future__ import annotations

from telecrm.contacts.schemas import ContactCreate, ContactQuery, ContactUpdate
from telecrm.contacts.service import CONTACTS
from telecrm.crm.routes import crm_router

router = crm_router(
    CONTACTS, key_type=str, create=ContactCreate, update=ContactUpdate, query=ContactQuery
)
