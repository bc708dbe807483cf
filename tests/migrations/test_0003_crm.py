"""Migration 0003 on a database that already holds billing data."""

from __future__ import annotations

from sqlalchemy import text

from telecrm import migrations
from telecrm.db import make_engine


def test_adding_contracts_account_id_keeps_what_refers_to_contracts(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        migrations.upgrade(engine, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO rate_groups (id, name, created_at, updated_at) "
                    "VALUES (1, 'retail', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO contracts (id, company_name, accountcode, status, "
                    "rate_group_id, currency, tax_rate, payment_terms_days, created_at, "
                    "updated_at) VALUES (1, 'PT A', 'A1', 'active', 1, 'IDR', 0, 30, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, role, is_active, "
                    "failed_logins, contract_id, created_at, updated_at) VALUES (1, "
                    "'c@example.com', 'x', 'customer', true, 0, 1, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
        migrations.upgrade(engine)
        with engine.begin() as connection:
            assert connection.execute(text("SELECT contract_id FROM users")).scalar() == 1
            connection.execute(
                text(
                    "INSERT INTO accounts (account_id, account_name, industry, account_value, "
                    "region, created_at, updated_at) VALUES (7, 'PT A', 'Retail', 0, 'Asia', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(text("UPDATE contracts SET account_id = 7"))
            connection.execute(text("DELETE FROM accounts"))
            assert connection.execute(text("SELECT account_id FROM contracts")).scalar() is None
        migrations.downgrade(engine, "0002")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT contract_id FROM users")).scalar() == 1
    finally:
        engine.dispose()
