"""The API's one error body (telecrm.api_errors): what the OpenAPI documents for
every error status, what every error answers; ids and amounts beyond their
columns are refused as invalid input; a 500 keeps the connection open; a body
beyond TELECRM_MAX_UPLOAD_MB is refused while it is read."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.api_errors import ErrorBody, documented_codes
from telecrm.app import create_app
from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.rates.models import Rate
from tests import factories
from tests.loopback import uvicorn_server

Headers = Callable[..., dict[str, str]]
INTEGER_TOO_LARGE = 2**31
BIGINT_TOO_LARGE = 2**63


def _error_body(response: object) -> ErrorBody:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "code", "detail"}, body
    return ErrorBody.model_validate(body)


def _fields(response: object) -> list[str | None]:
    return [item.field for item in _error_body(response).detail]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/rate-groups/{INTEGER_TOO_LARGE}", "path.rate_group_id"),
        (f"/api/rates/{INTEGER_TOO_LARGE}", "path.rate_id"),
        (f"/api/invoices/{INTEGER_TOO_LARGE}", "path.invoice_id"),
        (f"/api/accounts/{INTEGER_TOO_LARGE}", "path.account_id"),
        (f"/api/cdrs/{BIGINT_TOO_LARGE}", "path.cdr_id"),
        (f"/api/contracts?after_id={INTEGER_TOO_LARGE}", "query.after_id"),
        (f"/api/cdrs?invoice_id={INTEGER_TOO_LARGE}", "query.invoice_id"),
        (f"/api/audit?before_id={BIGINT_TOO_LARGE}", "query.before_id"),
        (f"/api/deals?account_id={BIGINT_TOO_LARGE}", "query.account_id"),
        ("/api/rate-groups/0", "path.rate_group_id"),
    ],
)
def test_an_id_beyond_its_column_is_422_naming_it(
    client: TestClient, auth_headers: Headers, url: str, field: str
) -> None:
    response = client.get(url, headers=auth_headers(Role.ADMIN))
    assert response.status_code == 422, response.text
    assert _fields(response) == [field]
    assert _error_body(response).code == "validation_failed"


def test_ids_in_a_body_are_checked_against_their_column(
    client: TestClient, auth_headers: Headers
) -> None:
    response = client.post(
        "/api/cdrs/sync/requeue",
        json={"cdr_ids": [1, BIGINT_TOO_LARGE]},
        headers=auth_headers(Role.BILLING),
    )
    assert response.status_code == 422, response.text
    assert _fields(response) == ["cdr_ids.1"]


@pytest.mark.parametrize(
    ("url", "field", "reason"),
    [
        ("/api/accounts?account_value=0.001", "account_value", "more than 2 decimal places"),
        ("/api/accounts?account_value=1e40", "account_value", "too large"),
        ("/api/deals?deal_size=1e40", "deal_size", "too large"),
        ("/api/deals?deal_size=99999999999999999", "deal_size", "too large"),
    ],
)
def test_an_amount_filter_beyond_its_column_is_422_naming_it(
    client: TestClient, auth_headers: Headers, url: str, field: str, reason: str
) -> None:
    response = client.get(url, headers=auth_headers(Role.VIEWER))
    assert response.status_code == 422, response.text
    assert _fields(response) == [field]
    assert reason in response.json()["error"]


def test_an_amount_filter_within_its_column_still_matches(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    factories.account(db_session, account_id=7001, account_value=Decimal("1500.50"))
    response = client.get("/api/accounts?account_value=1500.5", headers=auth_headers(Role.VIEWER))
    assert response.status_code == 200, response.text
    assert [item["account_id"] for item in response.json()["items"]] == [7001]


def test_every_error_answers_the_one_body_with_its_code(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    group = factories.rate_group(db_session)
    billing = auth_headers(Role.BILLING)
    answers = {
        "not_authenticated": client.get("/api/rate-groups"),
        "forbidden": client.get("/api/users", headers=billing),
        "rate_group_not_found": client.get("/api/rate-groups/999999", headers=billing),
        "rate_group_name_taken": client.post(
            "/api/rate-groups", json={"name": group.name}, headers=billing
        ),
        "validation_failed": client.post("/api/rate-groups", json={}, headers=billing),
        "method_not_allowed": client.put("/api/rate-groups", headers=billing),
    }
    for code, response in answers.items():
        assert _error_body(response).code == code, response.text
    assert answers["rate_group_not_found"].json()["detail"] == []  # a list, never null


def _operations(schema: dict) -> Iterator[tuple[str, dict]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_the_openapi_documents_the_error_body_for_every_error_status(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "code"}
    for name, operation in _operations(schema):
        responses = operation["responses"]
        errors = {status: response for status, response in responses.items() if status >= "400"}
        assert "500" in errors, name
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }, f"{name} {status}"
        if operation.get("security"):
            assert {"401", "403"} <= set(errors), name
        if "{" in name:
            assert "404" in errors, name
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in errors, name
    upload = schema["paths"]["/api/rate-groups/{rate_group_id}/rates/upload"]["post"]
    assert "413" in upload["responses"]


def test_each_refusal_a_route_answers_is_a_code_its_openapi_lists(
    client: TestClient, db_session: Session, auth_headers: Headers
) -> None:
    schema = client.get("/openapi.json").json()
    group = factories.rate_group(db_session)
    contract = factories.contract(db_session, group)
    invoice = factories.invoice(db_session, contract)
    account = factories.account(db_session)
    factories.deal(db_session, account)
    admin = auth_headers(Role.ADMIN)
    taken = factories.user(db_session, role=Role.VIEWER)
    # (the operation's path, the request) -> the code the refusal answers
    refusals = {
        ("/api/rate-groups/{rate_group_id}", "get", "/api/rate-groups/999999"): {},
        ("/api/rate-groups", "post", "/api/rate-groups"): {"json": {"name": group.name}},
        ("/api/rate-groups/{rate_group_id}", "delete", f"/api/rate-groups/{group.id}"): {},
        ("/api/contracts/{contract_id}", "delete", f"/api/contracts/{contract.id}"): {},
        ("/api/contracts", "post", "/api/contracts"): {"json": {}},
        ("/api/invoices/{invoice_id}/approve", "post", f"/api/invoices/{invoice.id}/approve"): {},
        ("/api/accounts/{account_id}", "get", "/api/accounts/999999"): {},
        ("/api/accounts/{account_id}", "delete", f"/api/accounts/{account.account_id}"): {},
        ("/api/users", "post", "/api/users"): {
            "json": {"email": taken.email, "password": "a long passphrase 42", "role": "viewer"}
        },
        ("/api/cdrs/fetch", "get", "/api/cdrs/fetch"): {
            "params": {"source": "nowhere", "startDate": "2024-01-01", "endDate": "2024-01-02"}
        },
        ("/api/cdrs/{cdr_id}", "get", "/api/cdrs/999999"): {},
        ("/api/users", "get", "/api/users"): {"headers": {}},
    }
    answered = set()
    for (path, method, url), request in refusals.items():
        response = client.request(method, url, **{"headers": admin, **request})
        assert response.status_code >= 400, (url, response.status_code)
        code = _error_body(response).code
        answered.add(code)
        operation = schema["paths"][path][method]
        assert code in documented_codes(operation, response.status_code), (url, response.text)
    # a route's own refusals, not only the kernel's
    assert {"rate_group_in_use", "contract_in_use", "account_in_use", "email_taken"} <= answered


def test_an_operation_naming_an_object_documents_its_own_not_found_code(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()
    generic = [
        name
        for name, operation in _operations(schema)
        if "404" in operation["responses"] and "not_found" in documented_codes(operation, 404)
    ]
    assert generic == []


@pytest.fixture()
def boom_app(settings: Settings, engine: Engine) -> FastAPI:
    app = create_app(settings=settings, engine=engine)  # its own: a route is added

    @app.get("/api/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    return app


def test_a_500_keeps_the_connection_for_the_next_request(boom_app: FastAPI) -> None:
    with uvicorn_server(boom_app) as (host, port):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/api/boom")
        failed = connection.getresponse()
        body = ErrorBody.model_validate_json(failed.read())
        assert (failed.status, body.code) == (500, "internal_error")
        assert "secret internals" not in body.error
        socket_used = connection.sock
        connection.request("GET", "/api/health")
        health = connection.getresponse()
        assert health.status == 200
        assert health.read()
        assert connection.sock is socket_used  # the same keep-alive connection
        connection.close()


@pytest.fixture()
def small_upload_app(settings: Settings, engine: Engine, app: FastAPI) -> FastAPI:
    """The test application (its sessions), with a 1 MB body limit."""
    limited = create_app(settings=settings.model_copy(update={"max_upload_mb": 1}), engine=engine)
    limited.dependency_overrides = app.dependency_overrides
    return limited


def test_a_body_declared_larger_than_the_limit_is_413_before_it_is_read(
    small_upload_app: FastAPI, db_session: Session, auth_headers: Headers
) -> None:
    group = factories.rate_group(db_session)
    headers = auth_headers(Role.BILLING)
    deck = b"rate_prefix,rate_type,billing_rate,billing_cycle\n" + b"6,per_minute,1,60\n" * 70_000
    with TestClient(small_upload_app, raise_server_exceptions=False) as client:
        upload = client.post(
            f"/api/rate-groups/{group.id}/rates/upload",
            files={"file": ("deck.csv", deck, "text/csv")},
            headers=headers,
        )
        push = client.post("/api/cdrs/push?source=pbx", content=b"x" * (2 * 2**20))
    for response in (upload, push):
        assert response.status_code == 413, response.text
        body = _error_body(response)
        assert body.code == "payload_too_large"
        assert "1 MB" in body.error and "TELECRM_MAX_UPLOAD_MB" in body.error


def test_a_chunked_body_is_cut_off_at_the_limit_as_it_streams(
    small_upload_app: FastAPI, db_session: Session, auth_headers: Headers
) -> None:
    """No Content-Length to trust: the bytes are counted as they arrive."""
    group = factories.rate_group(db_session)
    boundary = "telecrm-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="deck.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nrate_prefix,rate_type,billing_rate,billing_cycle\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(20):  # 1.25 MB
            yield b"6,per_minute,1,60\r\n" * 3_450
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {
        **auth_headers(Role.BILLING),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    with uvicorn_server(small_upload_app) as (host, port):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request(
            "POST",
            f"/api/rate-groups/{group.id}/rates/upload",
            body=chunks(),
            headers=headers,
            encode_chunked=True,
        )
        response = connection.getresponse()
        body = ErrorBody.model_validate_json(response.read())
        connection.close()
    assert (response.status, body.code) == (413, "payload_too_large")
    rates = select(func.count()).select_from(Rate).where(Rate.rate_group_id == group.id)
    assert db_session.scalar(rates) == 0


@pytest.mark.parametrize(
    ("url", "content", "content_type"),
    [
        ("/api/rate-groups", b'{"name": "\xff"}', "application/json"),
        (
            "/api/rate-groups/1/rates/upload",
            b"--b\r\nno headers--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
    ],
)
def test_a_body_that_cannot_be_decoded_is_422_naming_the_body(
    client: TestClient, auth_headers: Headers, url: str, content: bytes, content_type: str
) -> None:
    response = client.post(
        url,
        content=content,
        headers={**auth_headers(Role.BILLING), "Content-Type": content_type},
    )
    assert response.status_code == 422, response.text
    assert _fields(response) == ["body"]
    assert "cannot be parsed" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "field"),
    [
        ("get", "/api/contacts/a%00b", {}, "path"),
        ("get", "/api/contracts?search=a%00b", {}, "query.search"),
        ("get", "/api/audit?actor=%00", {}, "query.actor"),
        ("post", "/api/rate-groups", {"json": {"name": "a\x00b"}}, "name"),
        ("post", "/api/auth/token", {"data": {"username": "a\x00", "password": "x"}}, "username"),
    ],
)
def test_a_nul_character_in_any_text_is_422_naming_where(
    client: TestClient, auth_headers: Headers, method: str, url: str, kwargs: dict, field: str
) -> None:
    """PostgreSQL can neither store nor compare one; no text holds one."""
    response = client.request(method, url, headers=auth_headers(Role.ADMIN), **kwargs)
    assert response.status_code == 422, response.text
    assert _fields(response) == [field]
    assert "NUL" in response.json()["error"]
