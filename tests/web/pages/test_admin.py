"""Administration pages: users (create, role and contract, deactivate, reset the
password) with errors by their field; API keys shown once and revocable; the audit
log and its filters."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.orm import Session

from telecrm.auth import service as auth_service
from telecrm.auth.models import ApiKey, Role, User
from telecrm.config import Settings
from tests import factories
from tests.web.pages.conftest import PageClient

GOOD_PASSWORD = "correct horse battery staple 42"


def test_create_a_user_and_errors_by_their_field(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    admin = signed_in_client(Role.ADMIN)
    email = f"{factories.unique('page-user')}@example.com"
    created = admin.post_form(
        "/admin/users", {"email": email, "password": GOOD_PASSWORD, "role": "sales"}
    )
    assert created.status_code == 303, created.text
    assert email in admin.get(created.headers["location"]).text
    taken = admin.post_form(
        "/admin/users", {"email": email, "password": GOOD_PASSWORD, "role": "sales"}
    )
    assert taken.status_code == 409
    assert re.search(r'id="new-email-error">[^<]*already exists', taken.text)
    customer = admin.post_form(
        "/admin/users", {"email": "c-" + email, "password": GOOD_PASSWORD, "role": "customer"}
    )
    assert customer.status_code == 422
    assert re.search(r'id="new-contract-error">required for role customer', customer.text)
    weak = admin.post_form(
        "/admin/users", {"email": "w-" + email, "password": "password", "role": "viewer"}
    )
    assert weak.status_code == 422 and 'id="new-password-error"' in weak.text
    bad_email = admin.post_form(
        "/admin/users", {"email": "not-an-email", "password": GOOD_PASSWORD, "role": "viewer"}
    )
    assert bad_email.status_code == 422 and 'id="new-email-error"' in bad_email.text
    assert GOOD_PASSWORD not in bad_email.text  # a password is never echoed back


def test_change_role_and_contract_deactivate_and_reset_password(
    signed_in_client: Callable[..., PageClient], db_session: Session, settings: Settings
) -> None:
    admin = signed_in_client(Role.ADMIN)
    user = factories.user(db_session, role=Role.VIEWER)
    contract = factories.contract(db_session)
    url = f"/admin/users/{user.id}"
    refused = admin.post_form(
        url, {"action": "role", "role": "sales", "contract": contract.accountcode}
    )
    assert (
        refused.status_code == 422 and 'id="contract-error">only for role customer' in refused.text
    )
    bound = admin.post_form(
        url, {"action": "role", "role": "customer", "contract": contract.accountcode}
    )
    assert bound.status_code == 303
    db_session.expire_all()
    assert (user.role, user.contract_id) == (Role.CUSTOMER, contract.id)
    assert admin.post_form(url, {"action": "deactivate"}).status_code == 303
    db_session.expire_all()
    assert user.is_active is False
    page = admin.get(url).text
    assert "Activate this user" in page
    version = user.token_version
    assert (
        admin.post_form(url, {"action": "password", "password": GOOD_PASSWORD}).status_code == 303
    )
    db_session.expire_all()
    assert user.token_version == version + 1
    assert auth_service.verify_secret(user.password_hash, GOOD_PASSWORD)


def test_an_api_key_is_shown_once_then_revoked(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    admin = signed_in_client(Role.ADMIN)
    name = factories.unique("fs-")
    created = admin.post_form("/admin/api-keys", {"name": name, "role": "pbx"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    key = re.search(
        r'id="new-key-value" readonly class="secret" value="([^"]+)"', created.text
    ).group(1)  # type: ignore[union-attr]
    assert auth_service.principal_from_api_key(db_session, key).role is Role.PBX
    listing = admin.get("/admin/api-keys").text
    assert name in listing and key not in listing
    stored = db_session.query(ApiKey).filter_by(name=name).one()
    assert admin.post_form(f"/admin/api-keys/{stored.id}/revoke").status_code == 303
    db_session.expire_all()
    assert stored.revoked_at is not None
    assert f'aria-label="Revoke key {name}"' not in admin.get("/admin/api-keys").text
    customer_key = admin.post_form("/admin/api-keys", {"name": "x", "role": "customer"})
    assert customer_key.status_code == 422 and 'id="key-role-error"' in customer_key.text


def test_the_audit_log_filters(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    admin = signed_in_client(Role.ADMIN)
    email = f"{factories.unique('audited')}@example.com"
    admin.post_form("/admin/users", {"email": email, "password": GOOD_PASSWORD, "role": "viewer"})
    user = db_session.query(User).filter_by(email=email).one()
    page = admin.get("/admin/audit", params={"object_type": "users", "object_id": str(user.id)})
    assert page.status_code == 200
    assert email in page.text
    assert GOOD_PASSWORD not in page.text
    none = admin.get("/admin/audit", params={"object_type": "users", "actor": "nobody-at-all"})
    assert "No entry matches the filters" in none.text
    bad = admin.get("/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and 'id="audit-since-error"' in bad.text
    future = admin.get("/admin/audit", params={"since": "2999-01-01"})
    assert "No entry matches the filters" in future.text
