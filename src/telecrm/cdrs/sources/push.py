"""What a PBX POSTs to /api/cdrs/push, unwrapped into JSON documents.

FreeSWITCH's mod_json_cdr posts one call per request in one of three ways, as its
``encode`` setting says: ``cdr=<url-encoded JSON>`` (application/x-www-form-urlencoded,
the default), ``cdr=<base64 JSON>`` (application/x-www-form-base64-encoded), or the
JSON itself (application/json). Any other PBX may post a plain batch:
``{"cdrs": [{...}, ...]}`` or a bare list, one object per call in telecrm's field names.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

from telecrm.errors import ValidationFailed

MAX_BATCH = 10_000


@dataclass(frozen=True)
class Pushed:
    kind: Literal["freeswitch-json", "batch"]
    documents: list[dict[str, Any]]


def _json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{what} is not JSON: {exc}") from exc


def _form_field(body: bytes) -> str:
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    if "cdr" not in fields:
        raise ValidationFailed("a form post needs a cdr field (FreeSWITCH mod_json_cdr: cdr=...)")
    return fields["cdr"][0]


def unwrap(body: bytes, content_type: str) -> Pushed:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return _classify(_json(_form_field(body), "the cdr field"))
    if media_type == "application/x-www-form-base64-encoded":
        # the base64 alphabet's "+" would have become a space in the form decoding
        encoded = body.decode("ascii", errors="replace").partition("cdr=")[2]
        try:
            decoded = base64.b64decode(encoded.strip(), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed(f"the cdr field is not base64: {exc}") from exc
        return _classify(_json(decoded.rstrip(b"\x00"), "the decoded cdr field"))
    if media_type in ("application/json", "application/x-www-form-plaintext", "text/plain", ""):
        return _classify(_json(body, "the body"))
    raise ValidationFailed(
        f"content type {media_type!r} is not one a PBX posts CDRs in "
        "(application/json, or mod_json_cdr's form posts)"
    )


def _classify(document: Any) -> Pushed:
    if isinstance(document, dict) and "cdrs" in document:
        document = document["cdrs"]
    if isinstance(document, list):
        if len(document) > MAX_BATCH:
            raise ValidationFailed(f"{len(document)} CDRs in one post; send at most {MAX_BATCH}")
        if not all(isinstance(item, dict) for item in document):
            raise ValidationFailed("a batch is a list of objects, one per call")
        return Pushed("batch", document)
    if isinstance(document, dict) and ("variables" in document or "callflow" in document):
        return Pushed("freeswitch-json", [document])
    raise ValidationFailed(
        'expected a FreeSWITCH mod_json_cdr document, {"cdrs": [...]}, or a list of CDRs'
    )
