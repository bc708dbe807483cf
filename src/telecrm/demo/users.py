from __future__ import annotations

from sqlalchemy.orm import Session

from telecrm.auth import service
from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.console import print_table
from telecrm.errors import Conflict

DEMO_PASSWORD = "telecrm-demo-2025"
DEMO_USERS = [
    ("admin@demo.telecrm.example", Role.ADMIN),
    ("billing@demo.telecrm.example", Role.BILLING),
    ("sales@demo.telecrm.example", Role.SALES),
    ("viewer@demo.telecrm.example", Role.VIEWER),
]


def load(session: Session, settings: Settings) -> None:
    """One user of each staff role, all with the same demo password."""
    created = 0
    for email, role in DEMO_USERS:
        try:
            service.create_user(session, email, DEMO_PASSWORD, role, settings)
            created += 1
        except Conflict:
            continue
    print_table(
        f"demo users ({created} created, {len(DEMO_USERS) - created} already there)",
        ["e-mail", "role", "password"],
        [(email, role.value, DEMO_PASSWORD) for email, role in DEMO_USERS],
    )
