"""Demo CRM data: a few hundred accounts, their contacts (Indonesian and international
phone numbers) and deals over the two years before this month, with their
aggregations. Offline (no external CRM). The data set is generated from a fixed
seed, and written with the change detection of ``update_many``: a second run in
the same month finds everything unchanged."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import phonenumbers
from sqlalchemy.orm import Session

from telecrm.accounts.models import Region
from telecrm.accounts.schemas import AccountDTO
from telecrm.accounts.service import AccountService
from telecrm.config import Settings
from telecrm.console import print_table
from telecrm.contacts.models import LeadSource
from telecrm.contacts.schemas import ContactDTO
from telecrm.contacts.service import ContactService
from telecrm.db import utcnow
from telecrm.deals.models import DealStage
from telecrm.deals.schemas import DealDTO
from telecrm.deals.service import DealService
from telecrm.reports import service as aggregations
from telecrm.reports.models import AggregationKind

SEED = 3
ACCOUNTS = 300
FIRST_DEAL_ID = 10001

PREFIXES = ["PT", "CV", "", "", ""]
NAME_PARTS = [
    "Nusantara", "Borneo", "Garuda", "Merapi", "Sumatra", "Bintang", "Samudra", "Cahaya",
    "Harbour", "Northwind", "Alpine", "Pacific", "Meridian", "Lotus", "Baltic", "Cedar",
    "Sakura", "Atlas", "Mandala", "Kencana",
]  # fmt: skip
NAME_SUFFIXES = [
    "Digital", "Logistik", "Telekom", "Solutions", "Trading", "Group", "Media", "Energi",
    "Health", "Foods", "Systems", "Partners",
]  # fmt: skip
INDUSTRIES = [
    "Telecommunications", "Banking", "Retail", "Logistics", "Healthcare", "Manufacturing",
    "Hospitality", "Government", "Education", "Energy",
]  # fmt: skip
FIRST_NAMES = [
    "Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Wulan", "Hendra", "Ayu",
    "Emma", "Liam", "Sofia", "Lucas", "Mei", "Kenji", "Priya", "Oliver", "Hannah", "Noah",
]  # fmt: skip
LAST_NAMES = [
    "Santoso", "Wijaya", "Halim", "Pratama", "Kusuma", "Saputra", "Nugroho", "Lestari",
    "Tan", "Lim", "Smith", "Müller", "Rossi", "Tanaka", "Kumar", "Brown", "Dubois", "Chen",
]  # fmt: skip
JOB_TITLES = [
    "CEO", "CFO", "IT Manager", "Procurement Lead", "Operations Director", "Office Manager",
    "Head of Customer Care", None,
]  # fmt: skip
# (share of contacts, country calling code, national number patterns: digits drawn for '#')
PHONE_PLANS = [
    (0.45, 62, ["812########", "813#######", "857########", "878########"]),  # ID mobile
    (0.15, 62, ["21########", "31#######", "361######"]),  # ID fixed: Jakarta, Surabaya, Bali
    (0.08, 65, ["8#######", "6#######"]),
    (0.06, 60, ["12#######", "3########"]),
    (0.06, 1, ["415#######", "212#######"]),
    (0.05, 44, ["20########", "7700######"]),
    (0.05, 61, ["2########", "4########"]),
    (0.05, 49, ["30########", "151########"]),
    (0.05, 81, ["3########", "90########"]),
]
PRODUCTS = ["SIP trunk", "PBX", "Contact centre", "Fibre link", "Mobile fleet"]
STAGES = [
    (DealStage.PROSPECTING, "20%", 0.25),
    (DealStage.NEGOTIATION, "60%", 0.2),
    (DealStage.CLOSED_WON, "100%", 0.35),
    (DealStage.CLOSED_LOST, "0%", 0.2),
]


def _phone(rng: random.Random) -> str:
    """A number the numbering plan allows, in E.164."""
    _, country, patterns = rng.choices(PHONE_PLANS, weights=[p[0] for p in PHONE_PLANS])[0]
    while True:
        national = "".join(
            str(rng.randrange(10)) if char == "#" else char for char in rng.choice(patterns)
        )
        number = phonenumbers.parse(f"+{country}{national}")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low, high)) * 100


def _accounts(rng: random.Random) -> list[AccountDTO]:
    accounts = []
    for account_id in range(1, ACCOUNTS + 1):
        name = " ".join(
            part
            for part in (
                rng.choice(PREFIXES),
                rng.choice(NAME_PARTS),
                rng.choice(NAME_SUFFIXES),
            )
            if part
        )
        region = rng.choices(list(Region), weights=[2, 2, 6])[0]
        accounts.append(
            AccountDTO(
                account_id=account_id,
                account_name=f"{name} {account_id}",
                industry=rng.choice(INDUSTRIES),
                account_value=_amount(rng, 100, 50_000),
                region=region,
            )
        )
    return accounts


def _contacts(rng: random.Random, accounts: list[AccountDTO], today: dt.date) -> list[ContactDTO]:
    contacts = []
    number = 0
    for account in accounts:
        domain = account.account_name.lower().replace(" ", "-")
        for _ in range(rng.randint(1, 5)):
            number += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contacts.append(
                ContactDTO(
                    contact_id=f"C{number:05d}",
                    first_name=first,
                    last_name=last,
                    email=f"{first}.{last}.{number}@{domain}.example.com".lower(),
                    phone=_phone(rng),
                    job_title=rng.choice(JOB_TITLES),
                    lead_source=rng.choice(list(LeadSource)),
                    last_contact_date=(
                        today - dt.timedelta(days=rng.randrange(1, 730))
                        if rng.random() < 0.8
                        else None
                    ),
                    account_id=account.account_id if rng.random() < 0.95 else None,
                )
            )
    return contacts


def _deals(rng: random.Random, accounts: list[AccountDTO], end: dt.datetime) -> list[DealDTO]:
    start = end.replace(year=end.year - 2)
    seconds = int((end - start).total_seconds())
    deals = []
    deal_id = FIRST_DEAL_ID
    for account in accounts:
        for _ in range(rng.randint(0, 9)):
            stage, probability, _weight = rng.choices(STAGES, weights=[s[2] for s in STAGES])[0]
            deals.append(
                DealDTO(
                    deal_id=deal_id,
                    deal_name=f"{account.account_name}: {rng.choice(PRODUCTS)}",
                    deal_size=_amount(rng, 10, 5_000) if rng.random() < 0.95 else None,
                    probability_of_closure=probability,
                    deal_stage=stage,
                    account_id=account.account_id,
                    created_at=start + dt.timedelta(seconds=rng.randrange(seconds)),
                )
            )
            deal_id += 1
    return deals


def load(session: Session, settings: Settings) -> None:
    rng = random.Random(SEED)
    now = utcnow()
    # The two years up to the start of this month: the same data all month long.
    end = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    accounts = _accounts(rng)
    contacts = _contacts(rng, accounts, end.date())
    deals = _deals(rng, accounts, end)
    reports = [
        ("accounts", AccountService(session, settings).update_many(accounts)),
        ("contacts", ContactService(session, settings).update_many(contacts)),
        ("deals", DealService(session, settings).update_many(deals)),
    ]
    print_table(
        "demo CRM",
        ["domain", "new", "changed", "unchanged"],
        [(name, report.new, report.changed, report.unchanged) for name, report in reports],
    )
    summaries = aggregations.compute(session, list(AggregationKind))
    print_table(
        "demo deal aggregations",
        ["kind", "account-periods", "deals", "total deal size"],
        [(s.kind.value, s.rows, s.deals, s.total_deal_size) for s in summaries],
    )
