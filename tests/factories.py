"""Test data, one function per kind of object; every argument has a sensible default."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from telecrm.accounts.models import Account, Region
from telecrm.auth import service as auth_service
from telecrm.auth.models import ApiKey, Role, User
from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.config import Settings
from telecrm.contacts.models import Contact, LeadSource
from telecrm.contracts.models import Contract, ContractStatus
from telecrm.deals.models import Deal, DealStage
from telecrm.invoices.models import Invoice, InvoiceStatus
from telecrm.rates.models import Rate, RateGroup
from telecrm.rating.types import RateType, RatingStatus

_sequence = itertools.count(1)
PASSWORD = "correct horse battery"


def unique(prefix: str) -> str:
    return f"{prefix}{next(_sequence)}"


def user(
    session: Session,
    role: Role = Role.VIEWER,
    email: str | None = None,
    password: str = PASSWORD,
    **fields: Any,
) -> User:
    fields.setdefault("is_active", True)
    fields.setdefault("failed_logins", 0)
    obj = User(
        email=email or f"{unique(role.value)}@example.com",
        password_hash=auth_service.hash_secret(password),
        role=role,
        **fields,
    )
    session.add(obj)
    session.flush()
    return obj


def bearer(user_obj: User, settings: Settings) -> dict[str, str]:
    token, _ = auth_service.issue_token(user_obj, settings)
    return {"Authorization": f"Bearer {token}"}


def api_key(session: Session, role: Role = Role.PBX, name: str | None = None) -> tuple[ApiKey, str]:
    return auth_service.create_api_key(session, name or unique("pbx-"), role)


# --- billing -------------------------------------------------------------------


def rate_group(session: Session, name: str | None = None, memo: str | None = None) -> RateGroup:
    obj = RateGroup(name=name or unique("Rate group "), memo=memo)
    session.add(obj)
    session.flush()
    return obj


def rate(
    session: Session,
    group: RateGroup | None = None,
    rate_prefix: str = "62",
    area_prefix: str = "",
    rate_type: RateType = RateType.PER_MINUTE,
    billing_rate: Decimal | str = Decimal(1000),
    billing_cycle: int = 60,
    **fields: Any,
) -> Rate:
    obj = Rate(
        rate_group_id=(group or rate_group(session)).id,
        rate_prefix=rate_prefix,
        area_prefix=area_prefix,
        rate_type=rate_type,
        billing_rate=Decimal(billing_rate),
        billing_cycle=billing_cycle,
        connect_fee=Decimal(fields.pop("connect_fee", 0)),
        **fields,
    )
    session.add(obj)
    session.flush()
    return obj


def contract(
    session: Session,
    group: RateGroup | None = None,
    accountcode: str | None = None,
    currency: str = "IDR",
    tax_rate: Decimal | str = Decimal(11),
    **fields: Any,
) -> Contract:
    code = accountcode or unique("ACC")
    obj = Contract(
        company_name=fields.pop("company_name", f"PT {code} Indonesia"),
        accountcode=code,
        rate_group_id=(group or rate_group(session)).id,
        currency=currency,
        tax_rate=Decimal(tax_rate),
        payment_terms_days=fields.pop("payment_terms_days", 30),
        status=fields.pop("status", ContractStatus.ACTIVE),
        **fields,
    )
    session.add(obj)
    session.flush()
    return obj


def customer(session: Session, contract_obj: Contract | None = None) -> User:
    """A user of role ``customer`` bound to a contract (a new one by default)."""
    return user(session, role=Role.CUSTOMER, contract_id=(contract_obj or contract(session)).id)


# what a test may give of a call's rating (``cost`` has a parameter of its own)
RATING_FIELDS = tuple(
    column.name
    for column in CdrRating.__table__.columns
    if column.name not in ("cdr_id", "start_time", "cost")
)


def cdr(
    session: Session,
    contract_obj: Contract | None = None,
    start_time: dt.datetime | None = None,
    rate_obj: Rate | None = None,
    cost: Decimal | str | None = None,
    billsec: int = 60,
    dst: str = "08123456789",
    **fields: Any,
) -> Cdr:
    """A call of ``contract_obj``; rated (with ``cost``, on ``rate_obj``) when a cost
    is given, or when a ``rating_status`` is; pending otherwise (no rating)."""
    start = start_time or dt.datetime(2025, 11, 5, 9, 30, tzinfo=dt.UTC)
    rated = cost is not None
    rating = {name: fields.pop(name) for name in RATING_FIELDS if name in fields}
    obj = Cdr(
        unique_key=unique("cdr-"),
        call_id=fields.pop("call_id", unique("call-")),
        accountcode=contract_obj.accountcode if contract_obj else fields.pop("accountcode", ""),
        src=fields.pop("src", "1001"),
        dst=dst,
        start_time=start,
        answer_time=start if billsec else None,
        end_time=start + dt.timedelta(seconds=billsec),
        duration=fields.pop("duration", billsec),
        billsec=billsec,
        disposition=fields.pop("disposition", "ANSWERED" if billsec else "NO ANSWER"),
        **fields,
    )
    session.add(obj)
    session.flush()
    status = rating.pop("rating_status", RatingStatus.RATED if rated else RatingStatus.PENDING)
    if status != RatingStatus.PENDING:
        defaults: dict[str, Any] = {
            "contract_id": contract_obj.id if contract_obj and rated else None,
            "rate_id": rate_obj.id if rate_obj else None,
            "matched_prefix": rate_obj.destination_prefix if rate_obj else None,
            "billable_seconds": billsec if rated else None,
            "cost": Decimal(cost) if rated else None,
            "rated_at": dt.datetime.now(dt.UTC),
        }
        session.add(
            CdrRating(cdr_id=obj.id, start_time=start, rating_status=status, **(defaults | rating))
        )
        session.flush()
    session.expire(obj, ["rating"])
    return obj


def rate_cdr(session: Session, cdr_obj: Cdr, **fields: Any) -> None:
    """Change the rating of a rated call (``invoice_id``, ``cost``...)."""
    rating = session.get_one(CdrRating, cdr_obj.id)
    for name, value in fields.items():
        setattr(rating, name, value)
    session.flush()
    session.expire(cdr_obj, ["rating"])


def invoice(
    session: Session,
    contract_obj: Contract | None = None,
    status: InvoiceStatus = InvoiceStatus.DRAFT,
    period_start: dt.datetime | None = None,
    subtotal: Decimal | str = Decimal(10000),
    **fields: Any,
) -> Invoice:
    owner = contract_obj or contract(session)
    start = period_start or dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    net = Decimal(subtotal)
    tax = (net * owner.tax_rate / 100).quantize(Decimal(1))
    obj = Invoice(
        invoice_number=fields.pop("invoice_number", unique("INV-TEST-")),
        contract_id=owner.id,
        accountcode=owner.accountcode,
        period_start=start,
        period_end=end,
        invoice_date=fields.pop("invoice_date", end.date()),
        due_date=fields.pop("due_date", end.date() + dt.timedelta(days=owner.payment_terms_days)),
        currency=owner.currency,
        subtotal=net,
        tax_rate=owner.tax_rate,
        tax=tax,
        amount=net + tax,
        call_count=fields.pop("call_count", 0),
        status=status,
        **fields,
    )
    session.add(obj)
    session.flush()
    return obj


# --- CRM ---------------------------------------------------------------------------


def account(session: Session, account_id: int | None = None, **fields: Any) -> Account:
    fields.setdefault("account_name", unique("Account "))
    fields.setdefault("industry", "Telecommunications")
    fields.setdefault("account_value", Decimal("250000.00"))
    fields.setdefault("region", Region.ASIA)
    obj = Account(account_id=account_id or next(_sequence), **fields)
    session.add(obj)
    session.flush()
    return obj


def contact(session: Session, account_obj: Account | None = None, **fields: Any) -> Contact:
    fields.setdefault("contact_id", unique("C"))
    fields.setdefault("first_name", "Budi")
    fields.setdefault("last_name", "Santoso")
    fields.setdefault("email", f"{fields['contact_id'].lower()}@example.com")
    fields.setdefault("lead_source", LeadSource.WEBSITE)
    if account_obj is not None:
        fields.setdefault("account_id", account_obj.account_id)
    obj = Contact(**fields)
    session.add(obj)
    session.flush()
    return obj


def deal(session: Session, account_obj: Account | None = None, **fields: Any) -> Deal:
    fields.setdefault("deal_id", next(_sequence))
    fields.setdefault("deal_name", unique("Deal "))
    fields.setdefault("deal_size", Decimal("1000.00"))
    fields.setdefault("probability_of_closure", "50%")
    fields.setdefault("deal_stage", DealStage.PROSPECTING)
    fields.setdefault("created_at", dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC))
    if "account_id" not in fields:
        fields["account_id"] = (account_obj or account(session)).account_id
    obj = Deal(**fields)
    session.add(obj)
    session.flush()
    return obj
