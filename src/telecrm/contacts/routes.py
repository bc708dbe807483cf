from __future__ import annotations

from telecrm.contacts.schemas import ContactCreate, ContactQuery, ContactRead, ContactUpdate
from telecrm.contacts.service import ContactService
from telecrm.crm.routes import crm_router

router = crm_router(
    plural="contacts",
    noun="contact",
    key_field="contact_id",
    key_type=str,
    service=ContactService,
    read=ContactRead,
    create=ContactCreate,
    update=ContactUpdate,
    query=ContactQuery,
)
