from __future__ import annotations

from telecrm.accounts.schemas import AccountCreate, AccountQuery, AccountUpdate
from telecrm.accounts.service import ACCOUNTS
from telecrm.crm.routes import crm_router
from telecrm.db import IntId
from telecrm.errors import AccountInUse

router = crm_router(
    ACCOUNTS,
    key_type=IntId,
    create=AccountCreate,
    update=AccountUpdate,
    query=AccountQuery,
    delete_refusals=(AccountInUse,),
)
