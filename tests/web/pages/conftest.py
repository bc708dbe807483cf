"""Pages in process: a TestClient signed in as a user of a role (the session cookie),
with the CSRF pair set, over the test's database."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role, User
from telecrm.config import Settings
from telecrm.web.session import CSRF_COOKIE, SESSION_COOKIE
from tests import factories

CSRF = "page-tests-csrf-token"


class PageClient(TestClient):
    user: User

    def post_form(self, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        return self.post(url, data={**(data or {}), "csrf_token": CSRF})


@pytest.fixture()
def signed_in_client(
    app: FastAPI, db_session: Session, settings: Settings
) -> Callable[..., PageClient]:
    def make(role: Role, **user_fields: object) -> PageClient:
        user = factories.user(db_session, role=role, **user_fields)
        client = PageClient(app, follow_redirects=False, raise_server_exceptions=True)
        client.cookies.set(CSRF_COOKIE, CSRF)
        client.cookies.set(SESSION_COOKIE, factories.bearer(user, settings)["Authorization"][7:])
        client.user = user
        return client

    return make
