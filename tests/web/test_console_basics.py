"""The console's frame in a real browser: sign in and out, the CSRF guard, the API docs
offline, and the sign-in page's accessibility."""

from __future__ import annotations

from typing import Any

import httpx

from telecrm.auth.models import Role
from tests.web.conftest import (
    PASSWORD,
    LiveServer,
    screenshot,
    serious_accessibility_violations,
    sign_in,
)


def test_sign_in_lands_staff_on_the_dashboard_and_sign_out_ends_the_session(
    page: Any, live_server: LiveServer
) -> None:
    email = live_server.user("clerk@browser.test", Role.BILLING)
    page.goto("/dashboard")
    assert "/login" in page.url  # no session: sent to sign in, then back
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["telecrm_session"]["httpOnly"] is True
    assert cookies["telecrm_session"]["sameSite"] == "Lax"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto("/dashboard")
    assert "/login" in page.url


def test_a_wrong_password_is_refused_on_the_form(page: Any, live_server: LiveServer) -> None:
    email = live_server.user("wrong@browser.test", Role.VIEWER)
    sign_in(page, email, "not the password")
    assert page.get_by_role("alert").inner_text() == "wrong e-mail or password"
    assert "/login" in page.url


def test_a_form_post_without_the_csrf_token_is_refused(live_server: LiveServer) -> None:
    email = live_server.user("csrf@browser.test", Role.ADMIN)
    with httpx.Client(base_url=live_server.url) as client:
        form = client.get("/login")
        assert form.status_code == 200
        refused = client.post("/login", data={"email": email, "password": PASSWORD})
        assert refused.status_code == 403
        assert "security token" in refused.text
        token = client.cookies["telecrm_csrf"]
        forged = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"}
        )
        assert forged.status_code == 403
        accepted = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert accepted.status_code == 303


def test_the_api_docs_render_their_operations_offline(page: Any) -> None:
    page.goto("/docs")  # the page fixture aborts, and fails on, any outside request
    page.locator(".opblock").first.wait_for(timeout=60_000)  # 1.5 MB of script to parse
    assert page.locator(".opblock").count() > 50
    page.goto("/redoc")
    page.locator("h2", has_text="Log in (OAuth2 password flow)").first.wait_for(timeout=60_000)


def test_the_sign_in_page_has_no_serious_accessibility_violation(page: Any) -> None:
    page.goto("/login")
    screenshot(page, "sign-in")
    assert serious_accessibility_violations(page) == []
