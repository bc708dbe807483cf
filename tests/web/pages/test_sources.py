"""The CDR source pages: the password is write-only (never in the HTML, an empty
field keeps it, a new connection drops it), bad parameters are shown by their
field, fetch now records a run, and a role sees only what it may manage."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource, CdrSourceType
from tests import factories
from tests.web.pages.conftest import PageClient

PASSWORD = "pbx-db-Secret-7731"
DB_FORM = {
    "type": "asterisk_db",
    "enabled": "on",
    "dialect": "postgresql",
    "host": "10.0.0.5",
    "database": "asterisk",
    "username": "telecrm",
    "sslmode": "require",
}


def _add_db_source(client: PageClient, name: str) -> int:
    response = client.post_form("/sources", {**DB_FORM, "name": name, "password": PASSWORD})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/sources/(\d+)\?saved=1", response.headers["location"])
    assert match
    return int(match.group(1))


def test_the_password_is_stored_but_never_rendered_back(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    client = signed_in_client(Role.BILLING)
    source_id = _add_db_source(client, factories.unique("pbx-db-"))
    source = db_session.get(CdrSource, source_id)
    assert source is not None and source.secret is not None
    for page in (f"/sources/{source_id}", f"/sources/{source_id}/edit", "/sources"):
        html = client.get(page).text
        assert PASSWORD not in html
        assert source.secret not in html
    edit = client.get(f"/sources/{source_id}/edit").text
    assert 'name="password" type="password" autocomplete="new-password" value=""' in edit
    assert "A password is stored." in edit
    assert "stored (encrypted)" in client.get(f"/sources/{source_id}").text


def test_an_empty_password_field_keeps_it_and_a_new_host_drops_it(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    client = signed_in_client(Role.BILLING)
    source_id = _add_db_source(client, factories.unique("pbx-db-"))
    secret = db_session.get(CdrSource, source_id).secret  # type: ignore[union-attr]

    kept = client.post_form(f"/sources/{source_id}", {**DB_FORM, "database": "asterisk2"})
    assert kept.status_code == 303
    db_session.expire_all()
    source = db_session.get(CdrSource, source_id)
    assert source is not None
    assert source.params["database"] == "asterisk2"
    # the database is part of where it connects: the README's rule drops the password
    assert source.secret is None

    client.post_form(f"/sources/{source_id}", {**DB_FORM, "password": PASSWORD})
    db_session.expire_all()
    source = db_session.get(CdrSource, source_id)
    assert source is not None and source.secret is not None and source.secret != secret
    unchecked = {name: value for name, value in DB_FORM.items() if name != "enabled"}
    client.post_form(f"/sources/{source_id}", unchecked)  # disabled, no password given
    db_session.expire_all()
    source = db_session.get(CdrSource, source_id)
    assert source is not None and source.enabled is False and source.secret is not None

    client.post_form(f"/sources/{source_id}", {**DB_FORM, "remove_password": "on"})
    db_session.expire_all()
    assert db_session.get(CdrSource, source_id).secret is None  # type: ignore[union-attr]


def test_bad_parameters_are_shown_by_their_field_and_nothing_is_kept(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    client = signed_in_client(Role.BILLING)
    source_id = _add_db_source(client, factories.unique("pbx-db-"))
    unchecked = {name: value for name, value in DB_FORM.items() if name != "enabled"}
    refused = client.post_form(
        f"/sources/{source_id}", {**unchecked, "host": "/var/run/postgresql"}
    )
    assert refused.status_code == 422
    assert re.search(r'id="host-error">[^<]*is not a host name', refused.text)
    db_session.expire_all()
    source = db_session.get(CdrSource, source_id)
    assert source is not None and source.enabled is True  # the refused change kept nothing

    name = factories.unique("pbx-db-")
    bad_name = client.post_form("/sources", {**DB_FORM, "name": "no spaces allowed"})
    assert bad_name.status_code == 422
    assert 'id="name-error"' in bad_name.text
    _add_db_source(client, name)
    taken = client.post_form("/sources", {**DB_FORM, "name": name})
    assert taken.status_code == 409
    assert re.search(r'id="name-error">[^<]*already exists', taken.text)


def test_fetch_now_records_a_run_shown_on_the_source(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    client = signed_in_client(Role.BILLING)
    source = CdrSource(name=factories.unique("push-"), type=CdrSourceType.PUSH, params={})
    db_session.add(source)
    db_session.flush()
    response = client.post_form(f"/sources/{source.id}/fetch")
    assert response.status_code == 303
    run_id = int(response.headers["location"].rsplit("=", 1)[1])
    run = db_session.get(CdrFetchRun, run_id)
    assert run is not None and run.source_id == source.id
    page = client.get(response.headers["location"]).text
    assert f"Fetched: run {run_id}" in page
    assert re.search(
        rf'<tr aria-current="true" class="highlight">\s*<th scope="row">{run_id}</th>', page
    )


def test_a_failed_fetch_is_a_readable_refusal_and_its_run_is_kept(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    client = signed_in_client(Role.BILLING)
    # Nothing listens on port 1 of loopback: the connection is refused at once.
    source_id = _add_db_source(client, factories.unique("pbx-db-"))
    client.post_form(
        f"/sources/{source_id}", {**DB_FORM, "host": "127.0.0.1", "port": "1", "password": "x"}
    )
    response = client.post_form(f"/sources/{source_id}/fetch")
    assert response.status_code == 502
    assert "unreachable after" in response.text or "refused" in response.text
    db_session.expire_all()
    detail = client.get(f"/sources/{source_id}").text
    assert "failed" in detail


def test_billing_is_not_offered_a_directory_source(
    signed_in_client: Callable[..., PageClient],
) -> None:
    billing = signed_in_client(Role.BILLING).get("/sources/new").text
    assert "type=asterisk_db" in billing and "type=directory" not in billing
    admin = signed_in_client(Role.ADMIN).get("/sources/new").text
    assert "type=directory" in admin
