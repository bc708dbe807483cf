"""Browser tests: a real ``telecrm serve`` subprocess on loopback, on a database of the
suite's kind of its own, driven by Playwright through Debian's Chromium
(``/usr/bin/chromium``; ``.ci/run`` installs it when missing). A page that asks for
anything but the loopback server fails its test: the console works offline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.auth import repository as auth_repository
from telecrm.auth import service as auth_service
from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.db import make_engine, unit_of_work
from tests.conftest import TEST_DATABASE_ENV, _postgres_database

CHROMIUM = Path(os.environ.get("TELECRM_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("TELECRM_SCREENSHOT_DIR", "build/screenshots"))
PASSWORD = "browser-test-Passw0rd!"
SECRET_KEY = "browser-tests-" + "k" * 40
# A Fernet key, so that a source's database password can be stored.
ENCRYPTION_KEY = "YnJvd3Nlci10ZXN0cy1vbmx5LTMyLWJ5dGVzLWtleSE="


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    database_url: str
    engine: Engine
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path

    def user(self, email: str, role: Role, accountcode: str | None = None) -> str:
        """A user of the live server's database (created once), signed in with PASSWORD."""
        with Session(self.engine) as session, unit_of_work(session):
            if auth_repository.get_user_by_email(session, email) is None:
                auth_service.create_user(
                    session, email, PASSWORD, role, self.settings, contract=accountcode
                )
        return email


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"telecrm serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"telecrm serve did not answer in 60 s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def live_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base_url = os.environ.get(TEST_DATABASE_ENV)
    if base_url:
        yield from _postgres_database(base_url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('live') / 'telecrm-live.db'}"


@pytest.fixture(scope="session")
def live_server(
    live_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "TELECRM_DATABASE_URL": live_database_url,
        "TELECRM_SECRET_KEY": SECRET_KEY,
        "TELECRM_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "TELECRM_CDR_SOURCE_ROOTS": f'["{workdir}"]',
    }
    telecrm = [sys.executable, "-m", "telecrm"]
    subprocess.run(
        [*telecrm, "db", "upgrade"], env=env, cwd=workdir, check=True, capture_output=True
    )
    port = _free_port()
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*telecrm, "serve", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    engine = make_engine(live_database_url)
    settings = Settings.model_validate(
        {"database_url": live_database_url, "secret_key": SECRET_KEY}
    )
    try:
        _wait_until_up(url, process, log)
        yield LiveServer(url, live_database_url, engine, settings, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@dataclass
class Offline:
    """Every request a page made to anything but the live server."""

    allowed_origin: str
    outside: list[str] = field(default_factory=list)


@pytest.fixture()
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    offline = Offline(live_server.url)

    def guard(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            offline.outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
    assert offline.outside == [], f"the page reached outside the server: {offline.outside}"


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def serious_accessibility_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (vendored) on the page as it is: the serious and critical violations."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot, kept as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture()
def signed_in(page: Any, live_server: LiveServer) -> Callable[[Role], Any]:
    """``signed_in(Role.BILLING)``: the page, signed in as a user of that role."""

    def make(role: Role, accountcode: str | None = None) -> Any:
        suffix = accountcode or "staff"
        email = live_server.user(f"{role.value}-{suffix}@browser.test", role, accountcode)
        sign_in(page, email)
        return page

    return make
