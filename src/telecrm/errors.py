"""The one error hierarchy. Services raise these; the API renders them as
``{"error": ..., "code": ..., "detail": [...]}`` (``telecrm.api_errors.ErrorBody``)
and the CLI prints them as one line. Each class has a stable ``code`` that clients
branch on; a subclass that refines a refusal names its own."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """``detail``: one ``{"message", "field" | "line" | "record"}`` per problem.
    ``keep_changes``: the unit of work commits what was done before the error
    (a failed login still counts as a failure) instead of rolling it back.
    ``code``: the refusal's stable name, for clients to act on (the message is for
    people, and may be reworded)."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        detail: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.keep_changes = keep_changes
        if status_code is not None:
            self.status_code = status_code

    def __str__(self) -> str:
        return self.message

    def response_headers(self) -> dict[str, str] | None:
        return None


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"

    def response_headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_failed"


class RetryLater(AppError):
    """A refusal that passes: the client may try again after ``retry_after`` seconds
    (the ``Retry-After`` header)."""

    def __init__(
        self, message: str, retry_after: int, detail: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message, detail)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class TooManyRequests(RetryLater):
    status_code = 429
    code = "too_many_requests"


class DatabaseBusy(RetryLater):
    """The database stayed locked by other writers longer than a writer waits
    (SQLite: one writer at a time)."""

    status_code = 503
    code = "database_busy"


class ExternalServiceError(AppError):
    """A system telecrm depends on (the CRM, a PBX) failed after the retries."""

    status_code = 502
    code = "external_service_failed"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class InvoiceStatusConflict(Conflict):
    """The invoice is not, or no longer, in the status a step of its flow starts
    from (another request may have moved it a moment before)."""

    code = "invoice_status_conflict"


class InvoiceCallsChanged(Conflict):
    """A draft's calls changed since its figures were computed."""

    code = "invoice_calls_changed"
