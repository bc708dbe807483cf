"""Sources, the CRM and administration in a real browser: an admin creates a user and
an API key (shown once, then revoked); a source's password is never in the page; the
audit log filters; the deal aggregation chart renders; a viewer is offered no button
that would fail (scenario 5); axe on each main page; screenshots."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from telecrm.app import create_app
from telecrm.auth.models import Role
from telecrm.db import unit_of_work
from telecrm.web.permissions import may
from tests import factories
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations

SOURCE_PASSWORD = "browser-PBX-db-pass-9184"

# Scenario 5: the API route behind each form a page posts to. A form a viewer is
# shown must post to a page whose API route the viewer may call. Extend for new pages.
ACTIONS: dict[str, tuple[str, str]] = {
    r"/sources": ("POST", "/api/cdr-sources"),
    r"/sources/\d+": ("PATCH", "/api/cdr-sources/{source_id}"),
    r"/sources/\d+/fetch": ("GET", "/api/cdrs/fetch"),
    r"/sources/\d+/delete": ("DELETE", "/api/cdr-sources/{source_id}"),
    r"/sync/retry-failed": ("POST", "/api/cdrs/sync/requeue"),
    r"/crm/extract": ("POST", "/api/crm/extract"),
    r"/crm/push": ("POST", "/api/crm/push"),
    r"/crm/aggregations/compute": ("POST", "/api/reports/deal-aggregations/compute"),
    r"/admin/users": ("POST", "/api/users"),
    r"/admin/users/\d+": ("PATCH", "/api/users/{user_id}"),
    r"/admin/api-keys": ("POST", "/api/api-keys"),
    r"/admin/api-keys/\d+/revoke": ("DELETE", "/api/api-keys/{key_id}"),
}
VIEWER_PAGES = ["/sync", "/crm/accounts", "/crm/contacts", "/crm/deals", "/crm/aggregations"]


def _api_route_of(action: str) -> tuple[str, str]:
    for pattern, route in ACTIONS.items():
        if re.fullmatch(pattern, action):
            return route
    raise AssertionError(f"a form posts to {action}: add its API route to ACTIONS")


def _deals(live_server: LiveServer) -> None:
    with Session(live_server.engine) as session, unit_of_work(session):
        account = factories.account(session, account_name=factories.unique("PT Browser "))
        for month, size in [(1, "1200.00"), (1, "300.50"), (2, "980.00"), (3, "4500.00")]:
            factories.deal(
                session,
                account,
                deal_size=Decimal(size),
                created_at=dt.datetime(2021, month, 12, tzinfo=dt.UTC),
            )


def test_an_admin_creates_a_user_and_an_api_key_shown_once_then_revoked(
    signed_in: Callable[..., Any],
) -> None:
    page = signed_in(Role.ADMIN)
    page.goto("/admin/users")
    email = f"{factories.unique('clerk')}@example.com"
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("a long browser password 77")
    page.get_by_label("Role").select_option("billing")
    page.get_by_role("button", name="Add the user").click()
    page.get_by_role("link", name=email).wait_for()
    assert "User created." in page.inner_text("#messages")
    screenshot(page, "admin-users")
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name=email).click()
    page.get_by_role("button", name="Deactivate this user").click()
    page.get_by_text("User deactivated").wait_for()

    page.goto("/admin/api-keys")
    name = factories.unique("fs-")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create the key").click()
    key = page.get_by_label("The key").input_value()
    assert key.startswith("tcrm_") or len(key) > 30
    assert serious_accessibility_violations(page) == []
    page.goto("/admin/api-keys")
    assert key not in page.content()  # shown once
    page.get_by_role("button", name=f"Revoke key {name}").click()
    page.get_by_role("row", name=re.compile(name)).get_by_text("revoked").wait_for()


def test_a_source_password_is_never_in_the_page(
    signed_in: Callable[..., Any], live_server: LiveServer
) -> None:
    page = signed_in(Role.ADMIN)
    page.goto("/sources/new?type=asterisk_db")
    name = factories.unique("pbx-db-")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Dialect (required)").select_option("postgresql")
    page.get_by_label("Host (required)").fill("10.20.30.40")
    page.get_by_label("Database (required)").fill("asterisk")
    page.get_by_label("Username (required)").fill("telecrm")
    page.get_by_label("Password").fill(SOURCE_PASSWORD)
    page.get_by_role("button", name="Add the source").click()
    page.get_by_role("heading", name=f"Source {name}").wait_for()
    assert "stored (encrypted)" in page.content()
    assert SOURCE_PASSWORD not in page.content()
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Change").click()
    assert page.get_by_label("New password").input_value() == ""
    assert SOURCE_PASSWORD not in page.content()
    assert serious_accessibility_violations(page) == []
    page.goto("/sources")
    assert SOURCE_PASSWORD not in page.content()
    screenshot(page, "sources")
    assert serious_accessibility_violations(page) == []


def test_the_audit_log_filters(signed_in: Callable[..., Any]) -> None:
    page = signed_in(Role.ADMIN)
    email = f"{factories.unique('audited')}@example.com"
    page.goto("/admin/users")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("a long browser password 78")
    page.get_by_role("button", name="Add the user").click()
    page.get_by_role("link", name=email).wait_for()
    page.goto("/admin/audit")
    page.get_by_label("Object type").fill("users")
    page.get_by_label("Actor").fill("nobody-like-this")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("No entry matches the filters").wait_for()
    page.get_by_label("Actor").fill("")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("cell", name=re.compile(re.escape(email))).first.wait_for()
    assert "object_type=users" in page.url  # the filter is in the address (hx-push-url)
    assert serious_accessibility_violations(page) == []


def test_the_deal_aggregation_chart_renders(
    signed_in: Callable[..., Any], live_server: LiveServer
) -> None:
    _deals(live_server)
    page = signed_in(Role.SALES)
    page.goto("/crm/deals?sort=-deal_size")
    page.get_by_role("heading", name="Deals").wait_for()
    screenshot(page, "crm-deals")
    assert serious_accessibility_violations(page) == []
    page.goto("/crm/aggregations")
    page.get_by_role("button", name="Recompute from the deals").click()
    page.get_by_text("Recomputed:").wait_for()
    page.get_by_label("From (period start)").fill("2021-01-01")
    page.get_by_label("To (period start)").fill("2021-12-31")
    page.get_by_role("button", name="Show").click()
    page.locator("#deal-chart[data-rendered=true]").wait_for()
    points = page.evaluate(
        "() => document.getElementById('deal-chart').chart.data.datasets[0].data.length"
    )
    assert points == page.locator("#deal-periods tbody tr").count() >= 3
    screenshot(page, "crm-deal-aggregations")
    assert serious_accessibility_violations(page) == []


def test_a_viewer_is_offered_no_button_that_would_fail(
    signed_in: Callable[..., Any], live_server: LiveServer
) -> None:
    app = create_app(settings=live_server.settings, engine=live_server.engine)
    page = signed_in(Role.VIEWER)
    for path in VIEWER_PAGES:
        page.goto(path)
        assert page.url.endswith(path), f"a viewer may open {path}"
        actions = page.eval_on_selector_all(
            "form[method=post]", "forms => forms.map(f => new URL(f.action).pathname)"
        )
        for action in actions:
            if action == "/logout":
                continue
            method, api_path = _api_route_of(action)
            assert may(app, Role.VIEWER, method, api_path), f"{path} offers {action}"
        assert serious_accessibility_violations(page) == [], path
