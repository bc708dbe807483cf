"""The API's error contract: one JSON shape, the field named, no stack trace."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from telecrm.app import create_app
from telecrm.auth.models import Role
from telecrm.config import Settings


def test_health_answers_without_credentials(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_documents_the_api(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/api/health" in client.get("/openapi.json").json()["paths"]


def test_validation_error_is_422_and_names_the_field(client: TestClient, auth_headers) -> None:
    response = client.post(
        "/api/users",
        json={"email": "not-an-email", "password": "long enough password", "role": "boss"},
        headers=auth_headers(Role.ADMIN),
    )
    assert response.status_code == 422
    body = response.json()
    fields = {item["field"] for item in body["detail"]}
    assert fields == {"email", "role"}
    assert "email" in body["error"] and "role" in body["error"]


def test_malformed_json_is_422_not_500(client: TestClient, auth_headers) -> None:
    response = client.post(
        "/api/users",
        content=b"{not json",
        headers={**auth_headers(Role.ADMIN), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"].startswith("invalid request")


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "code": "not_found", "detail": []}


def test_unexpected_error_is_500_without_a_stack_trace(settings: Settings, engine: Engine) -> None:
    app = create_app(settings=settings, engine=engine)  # its own: a route is added

    @app.get("/api/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/telecrm/db.py line 12")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal error; the server log has the details"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
