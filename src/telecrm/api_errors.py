"""The API's one error body: the model the OpenAPI documents, the handlers that
render every error in it (ours, FastAPI's validation, Starlette's 404 and 405, and
the unexpected), and the error responses each operation documents."""

from __future__ import annotations

import http
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telecrm.errors import (
    AppError,
    Forbidden,
    InternalError,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)

log = logging.getLogger(__name__)


class ErrorItem(BaseModel):
    """One problem: with the request field, or the line of an uploaded file, it is in."""

    model_config = ConfigDict(extra="allow")

    message: str
    field: str | None = Field(
        default=None, description="The request field, as a dotted path (query, path or body)."
    )
    line: int | None = Field(default=None, description="The line of an uploaded file.")
    record: str | None = Field(default=None, description="The business key of a record.")


class ErrorBody(BaseModel):
    """Every error the API answers, whatever its status."""

    error: str = Field(description="What went wrong, in one line, for a person.")
    code: str = Field(
        description="Stable and machine-readable (not_found, validation_failed, conflict, "
        "payload_too_large ...): branch on this, not on the message."
    )
    detail: list[ErrorItem] = Field(
        default_factory=list, description="Each problem found; empty when there is one."
    )


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be done as it stands (the message says why).",
    401: "No valid credentials: send a bearer token or an X-API-Key header.",
    403: "The credentials' role may not do this.",
    404: "What the request names does not exist (or is not the caller's to see).",
    409: "It conflicts with the stored data (a name taken, a state that forbids it).",
    413: "The request body is larger than TELECRM_MAX_UPLOAD_MB.",
    422: "A field is invalid: each problem names its field (or the file's line).",
    429: "Too many attempts: wait for Retry-After seconds.",
    500: "An unexpected error; the server log has the details.",
    502: "A system telecrm depends on (a PBX, the CRM) failed after the retries.",
    503: "A service telecrm depends on is not available.",
}


def _example(error: type[AppError]) -> dict[str, Any]:
    """How the error body of one refusal looks, named by its code: the class's own
    docstring (its first paragraph), else its code in words, stands for the message."""
    what = (error.__dict__.get("__doc__") or "").strip().split("\n\n")[0]
    what = " ".join(what.split()) or error.code.replace("_", " ")
    return {
        "summary": error.__name__,
        "value": {"error": what, "code": error.code, "detail": []},
    }


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: the refusals its service may raise, each under
    its status with its stable code as an example of the error body (the OpenAPI
    lists a route's codes from the classes it declares, written once)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        response = responses.setdefault(
            error.status_code,
            {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[error.status_code]},
        )
        content = response.setdefault("content", {"application/json": {"examples": {}}})
        content["application/json"]["examples"][error.code] = _example(error)
    return responses


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    items = [ErrorItem.model_validate(item) for item in detail or []]
    body = ErrorBody(error=message, code=code, detail=items)
    return body.model_dump(mode="json", exclude_none=True)


def _response(
    status_code: int, code: str, message: str, detail: Any = None, headers: Any = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status_code, content=error_body(code, message, detail), headers=headers
    )


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part not in ("body",)) or "body"


def _http_code(status_code: int) -> str:
    try:
        return http.HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return f"http_{status_code}"


class InternalErrorMiddleware:
    """An unexpected exception becomes a 500 with the error body, and is not raised
    further: Starlette's own handler of ``Exception`` re-raises it after answering,
    and the server then closes the connection, dropping the client's next request
    on it (keep-alive)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for an answer: the server closes the connection
                raise
            response = _response(
                500, InternalError.code, "internal error; the server log has the details"
            )
            await response(scope, receive, send)


class _Refused(Exception):
    """Raised into the application by ``receive`` when the body is refused."""


_JSON_NUL = b"\\u0000"
_FORM_NUL = b"%00"


def _nul_in_query(query_string: bytes) -> str | None:
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"query.{name.replace(chr(0), '')}"
    return None


def _nul_field(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted name of the first field of a decoded JSON body holding a NUL, named
    as the validation errors name fields (``params.path``, ``items.2.name``)."""
    if isinstance(value, str):
        return ".".join(path) or "body" if "\x00" in value else None
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if "\x00" in key:
                return ".".join((*path, key.replace("\x00", ""))) or "body"
            children.append((key, child))
    elif isinstance(value, list):
        children = [(str(index), child) for index, child in enumerate(value)]
    for name, child in children:
        if found := _nul_field(child, (*path, name)):
            return found
    return None


def _nul_in_body(body: bytes, form: bool) -> str:
    """Which field of a body with a NUL mark holds it, or ``body`` when that cannot be
    told (JSON that does not parse, a mark inside a key's escape)."""
    if form:
        field = _nul_in_query(body)
        return field.removeprefix("query.") if field else "body"
    try:
        return _nul_field(json.loads(body)) or "body"
    except ValueError:
        return "body"


class InputGuardMiddleware:
    """Refuses what no route may take, before the application reads it:

    - a body larger than ``max_bytes`` (413): at once when its Content-Length says
      so, else as soon as the bytes received pass the limit (a chunked body has no
      Content-Length, and a client may under-declare it);
    - a NUL character in the path, the query, or a JSON or form body (422): no text
      holds one, and PostgreSQL refuses to store or compare it. Other bodies (an
      uploaded file), and those of the ``own_parser_paths`` (a PBX push, where one
      CDR with a NUL is a reject and the others are stored), are their parser's to
      check.

    The application's own answer to a body cut short is replaced by the refusal."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, own_parser_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_parser_paths = own_parser_paths

    def _too_large(self) -> JSONResponse:
        megabytes = self.max_bytes // 2**20
        return _response(
            PayloadTooLarge.status_code,
            PayloadTooLarge.code,
            f"the request body is larger than {megabytes} MB (TELECRM_MAX_UPLOAD_MB)",
        )

    @staticmethod
    def _nul(field: str) -> JSONResponse:
        message = "contains a NUL character"
        detail = [{"field": field, "message": message}]
        return _response(422, ValidationFailed.code, f"invalid request: {field}: {message}", detail)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        refusal: JSONResponse | None = None
        if declared.isdigit() and int(declared) > self.max_bytes:
            refusal = self._too_large()
        elif "\x00" in scope["path"]:
            refusal = self._nul("path")
        elif field := _nul_in_query(scope.get("query_string", b"")):
            refusal = self._nul(field)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        nul_marks: tuple[bytes, ...] = ()
        if scope["path"] in self.own_parser_paths:
            pass
        elif content_type == b"application/json" or content_type.endswith(b"+json"):
            nul_marks = (b"\x00", _JSON_NUL)
        elif content_type == b"application/x-www-form-urlencoded":
            nul_marks = (b"\x00", _FORM_NUL)
        received = 0
        tail = b""  # the end of the previous chunk: a mark may straddle two
        started = False
        # A body that may be refused for a NUL is kept (it is within max_bytes) to
        # name the field that holds it.
        kept: list[bytes] = []

        async def guarded_receive() -> Message:
            nonlocal received, tail, refusal
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    refusal = self._too_large()
                    raise _Refused()
                if nul_marks:
                    kept.append(chunk)
                window = (tail + chunk).lower()
                if any(mark in window for mark in nul_marks):
                    while message.get("more_body", False):
                        message = await receive()
                        kept.append(message.get("body", b""))
                        received += len(kept[-1])
                        if received > self.max_bytes:
                            refusal = self._too_large()
                            raise _Refused()
                    form = nul_marks[-1] == _FORM_NUL
                    refusal = self._nul(_nul_in_body(b"".join(kept), form))
                    raise _Refused()
                tail = window[-5:]
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refusal is not None:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if refusal is None:
                raise
        if refusal is not None and not started:
            await refusal(scope, receive, send)


def install_error_handlers(
    app: FastAPI, max_body_bytes: int, own_parser_paths: frozenset[str] = frozenset()
) -> None:
    """``own_parser_paths``: routes whose body is checked field by field by their own
    parser, so that the input guard lets a NUL through to it."""

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return _response(exc.status_code, exc.code, exc.message, exc.detail, exc.response_headers())

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": _field_name(tuple(error["loc"])), "message": error["msg"]}
            for error in exc.errors()
        ]
        summary = "; ".join(f"{field['field']}: {field['message']}" for field in fields)
        return _response(422, ValidationFailed.code, f"invalid request: {summary}", fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        parse_error = exc.__cause__ or exc.__context__
        if exc.status_code == 400 and parse_error is not None:
            # FastAPI's and Starlette's answer to a body they cannot decode (JSON that
            # is not UTF-8, a broken multipart form): invalid input like malformed
            # JSON, which is 422. telecrm itself never raises HTTPException.
            reason = f"cannot be parsed ({parse_error})"
            detail = [{"field": "body", "message": reason}]
            return _response(422, ValidationFailed.code, f"invalid request: body: {reason}", detail)
        return _response(
            exc.status_code,
            _http_code(exc.status_code),
            str(exc.detail),
            None,
            getattr(exc, "headers", None),
        )

    # The last added is the outermost: an unexpected error anywhere inside, the input
    # guard included, still gets the error body.
    app.add_middleware(
        InputGuardMiddleware, max_bytes=max_body_bytes, own_parser_paths=own_parser_paths
    )
    app.add_middleware(InternalErrorMiddleware)


ERROR_BODY_REF = "#/components/schemas/ErrorBody"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _implied_errors(operation: Mapping[str, Any]) -> list[type[AppError]]:
    parameters = operation.get("parameters", [])
    implied: list[type[AppError]] = [InternalError]
    if operation.get("security"):
        implied += [NotAuthenticated, Forbidden]
    if any(parameter["in"] == "path" for parameter in parameters):
        implied.append(NotFound)
    if parameters or "requestBody" in operation:
        implied.append(ValidationFailed)
    if "requestBody" in operation:
        implied.append(PayloadTooLarge)
    return implied


def _with_error_body(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation documents the error body for the statuses its shape implies
    (401 and 403 when it needs credentials, 404 when its path names an object, 422
    when it takes input, 413 when it takes a body, 500 always) in place of FastAPI's
    own validation error, which the API never answers. A route's ``responses=``
    (``error_responses``) add the refusals its service raises. Each error status
    lists, as examples keyed by code, the codes the operation answers with it: its
    own refusals' and the implied one's (a 404 names the route's own not-found code
    when it declares one)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    body_schema = ErrorBody.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    components.update(body_schema.pop("$defs", {}))
    components["ErrorBody"] = body_schema
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            implied = _implied_errors(operation)
            for error in implied:
                responses.setdefault(
                    str(error.status_code), {"description": ERROR_DESCRIPTIONS[error.status_code]}
                )
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    if response.get("description") == "Validation Error":
                        response["description"] = ERROR_DESCRIPTIONS[422]
                    examples = response.get("content", {}).get("application/json", {})
                    examples = dict(examples.get("examples", {}))
                    for error in implied:
                        if str(error.status_code) == status and not (
                            examples and issubclass(error, NotFound)
                        ):
                            examples.setdefault(error.code, _example(error))
                    content: dict[str, Any] = {"schema": {"$ref": ERROR_BODY_REF}}
                    if examples:
                        content["examples"] = examples
                    response["content"] = {"application/json": content}
    return schema


def documented_codes(operation: Mapping[str, Any], status: int) -> set[str]:
    """The error codes an operation of the OpenAPI says it answers with a status."""
    response = operation.get("responses", {}).get(str(status), {})
    return set(response.get("content", {}).get("application/json", {}).get("examples", {}))


def document_errors(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return _with_error_body(generate())

    app.openapi = openapi  # type: ignore[method-assign]
