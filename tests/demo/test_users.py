from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.auth.models import User
from telecrm.demo.users import DEMO_USERS


def test_demo_users_are_created_once(cli, committed_db: Engine, monkeypatch) -> None:
    from telecrm.cli import demo
    from telecrm.demo import users

    # Only the users step: the other domains' steps have their own tests.
    monkeypatch.setattr(demo, "STEPS", [("users", users.load)])
    first = cli("demo")
    second = cli("demo")
    assert first.exit_code == 0, first.output
    assert f"demo users ({len(DEMO_USERS)} created, 0 already there)" in first.stdout
    assert f"demo users (0 created, {len(DEMO_USERS)} already there)" in second.stdout
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
