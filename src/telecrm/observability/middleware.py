"""Every HTTP request: its id (the client's ``X-Request-ID`` when it is a sensible
one, else a new one), set for the logs and echoed in the response; and its count and
latency, by route template, in the metrics."""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telecrm.observability import metrics
from telecrm.observability.logs import request_id

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept when it is a token a log line can hold as it is.
_SENSIBLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _SENSIBLE_ID.match(given):
                return given
            break
    return uuid.uuid4().hex


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = _request_id(scope)
        token = request_id.set(rid)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or metrics.UNMATCHED_ROUTE
            metrics.observe_request(
                template, scope["method"], status, time.perf_counter() - started
            )
            request_id.reset(token)
