"""A small HubSpot CRM v3 on loopback: a real HTTP server in a thread, written from
HubSpot's public API reference (objects list with ``after`` paging and
``associations``, batch read / upsert / archive, v3 association batches, bearer
tokens, error bodies ``{"status": "error", "message", "category", ...}``, 207 for
partial batch results, at most 100 inputs a batch and 100 objects a page).

Faults are queued with ``fail()``: a status (401, 429 with or without
``Retry-After``, 500) or a dropped connection, before the request is processed or
after it (the write happens, the answer is lost)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

MAX_PAGE = 100
MAX_BATCH = 100
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@dataclass
class Fault:
    status: int | None  # None: close the connection without an answer
    retry_after: str | None = None
    after_processing: bool = False
    path_contains: str = ""
    method: str | None = None
    skip: int = 0  # matching requests to come before the one this fault applies to

    def matches(self, method: str, path: str) -> bool:
        return self.path_contains in path and self.method in (None, method)


def _error(message: str, category: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "00000000-0000-0000-0000-000000000000",
        "category": category,
        **extra,
    }


class FakeHubSpot:
    def __init__(self, token: str = "pat-test-token") -> None:
        self.token = token
        self.objects: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._order: dict[str, list[str]] = defaultdict(list)
        # (from type, to type) -> {(from id, to id): association type}. Read it; write
        # through associate() / dissociate(), which keep the index by from id as well.
        self.associations: dict[tuple[str, str], dict[tuple[str, str], str]] = defaultdict(dict)
        self._associated: dict[tuple[str, str], dict[str, dict[str, str]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        # Inputs with these (object type, id) are refused by batch writes (HTTP 207).
        self.refused: set[tuple[str, str]] = set()
        self._ids = itertools.count(1001)
        self._clock = itertools.count(1)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- what the tests set up and look at --------------------------------------------

    def _now(self) -> str:
        instant = EPOCH + dt.timedelta(milliseconds=next(self._clock))
        return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def add(
        self, object_type: str, properties: Mapping[str, Any], company: str | None = None
    ) -> str:
        """Create an object (and its primary company association); its id."""
        with self._lock:
            object_id = str(next(self._ids))
            now = self._now()
            stored = {key: None if v is None else str(v) for key, v in properties.items()}
            stored.setdefault("createdate", now)
            stored["hs_object_id"] = object_id
            stored["hs_lastmodifieddate"] = now
            self.objects[object_type][object_id] = {
                "id": object_id,
                "properties": stored,
                "createdAt": stored["createdate"],
                "updatedAt": now,
                "archived": False,
            }
            self._order[object_type].append(object_id)
            if company is not None:
                kind = f"{object_type.removesuffix('s')}_to_company"
                self.associate(object_type, object_id, "companies", company, kind)
            return object_id

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, kind: str) -> None:
        with self._lock:
            self.associations[(from_type, to_type)][(from_id, to_id)] = kind
            self._associated[(from_type, to_type)][from_id][to_id] = kind

    def dissociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        with self._lock:
            self.associations[(from_type, to_type)].pop((from_id, to_id), None)
            self._associated[(from_type, to_type)][from_id].pop(to_id, None)

    def add_many(self, object_type: str, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.add(object_type, row)

    def fail(
        self,
        status: int | None = None,
        *,
        retry_after: str | None = None,
        times: int = 1,
        after_processing: bool = False,
        path_contains: str = "",
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """Matching requests number ``after + 1`` to ``after + times`` from now fail
        so (status None: the connection is dropped)."""
        with self._lock:
            for number in range(times):
                self.faults.append(
                    Fault(
                        status,
                        retry_after,
                        after_processing,
                        path_contains,
                        method,
                        skip=after + number,
                    )
                )

    def find(self, object_type: str, prop: str, value: str) -> dict[str, Any] | None:
        with self._lock:
            for obj in self.objects[object_type].values():
                if obj["properties"].get(prop) == value:
                    return obj
            return None

    def companies_of(self, object_type: str, object_id: str) -> set[str]:
        with self._lock:
            return set(self._associated[(object_type, "companies")][object_id])

    def count(self, object_type: str) -> int:
        with self._lock:
            return len(self.objects[object_type])

    def posts(self, path_contains: str) -> int:
        return sum(
            1 for method, path in self.requests if method == "POST" and path_contains in path
        )

    # --- the API ----------------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            chosen: Fault | None = None
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                if fault.skip == 0 and chosen is None:
                    chosen = fault
                elif fault.skip:
                    fault.skip -= 1
            if chosen is not None:
                self.faults.remove(chosen)
            return chosen

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        with self._lock:
            if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4 and method == "GET":
                return self._list(parts[3], query)
            if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 6 and parts[4] == "batch":
                inputs = (body or {}).get("inputs") or []
                if len(inputs) > MAX_BATCH:
                    return 400, _error(
                        f"Batch input cannot exceed {MAX_BATCH} inputs.", "VALIDATION_ERROR"
                    )
                action = {"read": self._read, "upsert": self._upsert, "archive": self._archive}
                if parts[5] in action:
                    return action[parts[5]](parts[3], body or {})
            if parts[:3] == ["crm", "v3", "associations"] and len(parts) == 7:
                return self._associate(parts[3], parts[4], parts[6], body or {})
        return 404, _error(f"Unable to infer object type from: {path}", "OBJECT_NOT_FOUND")

    def _view(self, obj: Mapping[str, Any], properties: list[str]) -> dict[str, Any]:
        shown = {"hs_object_id", "createdate", "hs_lastmodifieddate", *properties}
        return {
            **{key: obj[key] for key in ("id", "createdAt", "updatedAt", "archived")},
            "properties": {key: obj["properties"].get(key) for key in shown},
        }

    def _list(self, object_type: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        limit = min(int(query.get("limit", ["10"])[0]), MAX_PAGE)
        start = int(query.get("after", ["0"])[0])
        properties = [p for p in query.get("properties", [""])[0].split(",") if p]
        associations = [a for a in query.get("associations", [""])[0].split(",") if a]
        ids = self._order[object_type][start : start + limit]
        results = []
        for object_id in ids:
            view = self._view(self.objects[object_type][object_id], properties)
            for to_type in associations:
                linked = [
                    {"id": to_id, "type": kind}
                    for to_id, kind in self._associated[(object_type, to_type)][object_id].items()
                ]
                if linked:
                    view.setdefault("associations", {})[to_type] = {"results": linked}
            results.append(view)
        answer: dict[str, Any] = {"results": results}
        if start + limit < len(self._order[object_type]):
            after = str(start + limit)
            answer["paging"] = {
                "next": {"after": after, "link": f"/crm/v3/objects/{object_type}?after={after}"}
            }
        return 200, answer

    def _find_by(self, object_type: str, id_property: str | None, value: str) -> dict | None:
        if id_property in (None, "hs_object_id"):
            return self.objects[object_type].get(value)
        for obj in self.objects[object_type].values():
            if obj["properties"].get(id_property) == value:
                return obj
        return None

    def _batch_answer(self, results: list[Any], errors: list[Any]) -> tuple[int, Any]:
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": self._now(),
            "completedAt": self._now(),
        }
        if errors:
            answer["errors"] = errors
            answer["numErrors"] = len(errors)
            return 207, answer
        return 200, answer

    def _read(self, object_type: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        properties = list(body.get("properties") or [])
        results, missing = [], []
        for item in body.get("inputs") or []:
            obj = self._find_by(object_type, body.get("idProperty"), str(item["id"]))
            if obj is None:
                missing.append(str(item["id"]))
            else:
                results.append(self._view(obj, properties))
        errors = []
        if missing:
            errors.append(
                _error(
                    f"Could not get some {object_type} objects, they may be deleted or not "
                    "exist. Check that ids are valid.",
                    "OBJECT_NOT_FOUND",
                    context={"ids": missing},
                )
            )
        return self._batch_answer(results, errors)

    def _upsert(self, object_type: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        results, errors = [], []
        for item in body.get("inputs") or []:
            id_property, value = item.get("idProperty"), str(item.get("id"))
            if not id_property:
                return 400, _error("idProperty is required for upsert", "VALIDATION_ERROR")
            if (object_type, value) in self.refused:
                errors.append(
                    _error(
                        f"Property values were not valid for {id_property} {value}",
                        "VALIDATION_ERROR",
                        context={"id": [value]},
                    )
                )
                continue
            properties = {
                key: None if v is None else str(v)
                for key, v in (item.get("properties") or {}).items()
            }
            obj = self._find_by(object_type, id_property, value)
            if obj is None:
                object_id = self.add(object_type, {**properties, id_property: value})
                obj = self.objects[object_type][object_id]
                new = True
            else:
                now = self._now()
                obj["properties"].update(properties)
                obj["properties"]["hs_lastmodifieddate"] = now
                obj["updatedAt"] = now
                new = False
            results.append({**self._view(obj, list(properties)), "new": new})
        return self._batch_answer(results, errors)

    def _archive(self, object_type: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        for item in body.get("inputs") or []:
            if self.objects[object_type].pop(str(item["id"]), None) is not None:
                self._order[object_type].remove(str(item["id"]))
        return 204, None

    def _associate(
        self, from_type: str, to_type: str, action: str, body: Mapping[str, Any]
    ) -> tuple[int, Any]:
        results = []
        for item in body.get("inputs") or []:
            from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
            if action == "create":
                kind = item.get("type", f"{from_type}_to_{to_type}")
                self.associate(from_type, from_id, to_type, to_id, kind)
                results.append({"from": {"id": from_id}, "to": [{"id": to_id}]})
            elif action == "archive":
                self.dissociate(from_type, from_id, to_type, to_id)
            else:
                return 404, _error(f"unknown association action {action}", "OBJECT_NOT_FOUND")
        if action == "archive":
            return 204, None
        return self._batch_answer(results, [])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as HubSpot's servers
    # Headers and body go out in two writes: without TCP_NODELAY the client's delayed
    # ACK holds every answer back some 40 ms.
    disable_nagle_algorithm = True
    fake: FakeHubSpot

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parsed = urlsplit(self.path)
        with self.fake._lock:
            self.fake.requests.append((method, parsed.path))
        fault = self.fake.take_fault(method, parsed.path)
        if fault is not None and not fault.after_processing:
            if fault.status is None:
                self.close_connection = True
                return
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            message = {
                401: ("Authentication credentials not found.", "INVALID_AUTHENTICATION"),
                429: ("You have reached your ten_secondly_rolling limit.", "RATE_LIMITS"),
            }.get(fault.status, ("internal error", "INTERNAL_ERROR"))
            self._send(fault.status, _error(*message), headers)
            return
        if self.headers.get("Authorization") != f"Bearer {self.fake.token}":
            self._send(
                401,
                _error(
                    "Authentication credentials not found. This API supports OAuth 2.0 "
                    "authentication ...",
                    "INVALID_AUTHENTICATION",
                ),
            )
            return
        body = json.loads(raw) if raw else None
        status, answer = self.fake.handle(method, parsed.path, parse_qs(parsed.query), body)
        if fault is not None:  # processed, and now the connection breaks
            self.close_connection = True
            return
        self._send(status, answer)

    def _send(self, status: int, answer: Any, headers: Mapping[str, str] | None = None) -> None:
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
