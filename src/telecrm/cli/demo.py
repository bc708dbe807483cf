from __future__ import annotations

import time

import typer

from telecrm import migrations
from telecrm.config import get_settings
from telecrm.console import console
from telecrm.db import session_scope
from telecrm.demo import billing as demo_billing
from telecrm.demo import crm as demo_crm
from telecrm.demo import users as demo_users

app = typer.Typer()

# Each step loads one domain's demo data, in dependency order.
STEPS = [("users", demo_users.load), ("crm", demo_crm.load), ("billing", demo_billing.load)]


@app.command()
def demo() -> None:
    """Load the demo data set (migrating the database first) and print a summary."""
    settings = get_settings()
    migrations.upgrade()
    for name, load in STEPS:
        started = time.perf_counter()
        with session_scope() as session:
            load(session, settings)
        console.print(f"demo {name}: done in {time.perf_counter() - started:.1f} s")
