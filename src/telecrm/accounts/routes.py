from __future__ import annotations

from telecrm.accounts.schemas import AccountCreate, AccountQuery, AccountRead, AccountUpdate
from telecrm.accounts.service import AccountService
from telecrm.crm.routes import crm_router
from telecrm.db import IntId
from telecrm.errors import AccountInUse

router = crm_router(
    plural="accounts",
    noun="account",
    key_field="account_id",
    key_type=IntId,
    service=AccountService,
    read=AccountRead,
    create=AccountCreate,
    update=AccountUpdate,
    query=AccountQuery,
    delete_refusals=(AccountInUse,),
)
